using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace OptEq.Kernels.Native;

/// <summary>
/// Packs an mc×kc block of op(A) into micro-panels for <see cref="SgemmMicroKernel"/>: panel q holds rows
/// [start, start + h) as [p][h] (the h values the kernel broadcasts at step p are adjacent) and sits at dst + start·kc.
/// Panel heights come from <see cref="SgemmBlocking.RowPanel"/>, so the whole block is contiguous and unpadded.
/// </summary>
/// <remarks>
/// From a non-transposed A, stores write 16 floats where a panel row has h ≤ 14: each store's spare lanes are overwritten
/// by the next one (so stores go in increasing order), and the last one runs up to 15 floats past the block; the
/// workspace keeps that slack.
/// </remarks>
internal static unsafe class SgemmPackA
{
    /// <summary>a points at op(A)[0, 0] of the block: A + i0·lda + p0, or A + p0·lda + i0 when transposed.</summary>
    public static void Pack(bool transA, float* a, long lda, int mc, int kc, float* dst)
    {
        if (transA)
        {
            BlockFromColumns(a, lda, mc, kc, dst);
            return;
        }
        int panels = SgemmBlocking.RowPanelCount(mc);
        for (int q = 0; q < panels; q++)
        {
            var (start, h) = SgemmBlocking.RowPanel(mc, panels, q);
            PanelFromRows(a + start * lda, lda, h, kc, dst + (long)start * kc);
        }
    }

    /// <summary>A not transposed: each of the h rows runs along p, so 16×16 blocks are copied transposed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // see SgemmMicroKernel: no slow first calls
    private static void PanelFromRows(float* a, long lda, int h, int kc, float* dst)
    {
        for (int p = 0; p < kc; p += 16)
            Transpose16x16.Copy(a + p, lda, h, Math.Min(16, kc - p), dst + p * h, h);
    }

    /// <summary>
    /// A transposed: the h values of step p are adjacent in memory already, in row p of the stored A. Rows go in groups of
    /// <see cref="RowGroup"/>, each group across all panels, so the stored A is read as a few sequential streams (panel by
    /// panel, every load would jump a row stride, often 4 KiB). Masked stores: a panel's steps are not written in order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // see SgemmMicroKernel: no slow first calls
    private static void BlockFromColumns(float* a, long lda, int mc, int kc, float* dst)
    {
        int panels = SgemmBlocking.RowPanelCount(mc);
        for (int p0 = 0; p0 < kc; p0 += RowGroup)
        {
            int rows = Math.Min(RowGroup, kc - p0);
            for (int q = 0; q < panels; q++)
            {
                var (start, h) = SgemmBlocking.RowPanel(mc, panels, q);
                var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(h)).AsSingle();
                float* src = a + p0 * lda + start;
                float* to = dst + (long)start * kc + p0 * h;
                for (int r = 0; r < rows; r++)
                    Avx512F.MaskStore(to + r * h, mask, Avx512F.MaskLoad(src + r * lda, mask, Vector512<float>.Zero));
            }
        }
    }

    private const int RowGroup = 8;
}
