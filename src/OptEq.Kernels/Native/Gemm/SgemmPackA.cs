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
/// Stores write 16 floats where a panel row has h ≤ 14: each store's spare lanes are overwritten by the next one (so stores
/// go in increasing order), and the last one runs up to 15 floats past the block; the workspace keeps that slack.
/// </remarks>
internal static unsafe class SgemmPackA
{
    /// <summary>Floats ahead along a source row to prefetch: each of the 16 rows read together is its own stream, and
    /// rows a stride apart (often 4 KiB) defeat the hardware prefetcher.</summary>
    private const int PrefetchAhead = 32;

    /// <summary>a points at op(A)[0, 0] of the block: A + i0·lda + p0, or A + p0·lda + i0 when transposed.</summary>
    [SkipLocalsInit] // the stack blocks are filled before they are read; zeroing them costs more than a tiny GEMM
    public static void Pack(bool transA, float* a, long lda, int mc, int kc, float* dst)
    {
        int panels = SgemmBlocking.RowPanelCount(mc);
        Vector512<float>* rows = stackalloc Vector512<float>[16];
        Vector512<float>* cols = stackalloc Vector512<float>[16];
        for (int q = 0; q < panels; q++)
        {
            var (start, h) = SgemmBlocking.RowPanel(mc, panels, q);
            if (transA) PanelFromColumns(a + start, lda, h, kc, dst + (long)start * kc);
            else PanelFromRows(a + start * lda, lda, h, kc, dst + (long)start * kc, rows, cols);
        }
    }

    /// <summary>A not transposed: each of the h rows runs along p, so 16×16 blocks are transposed in registers.</summary>
    private static void PanelFromRows(float* a, long lda, int h, int kc, float* dst, Vector512<float>* rows, Vector512<float>* cols)
    {
        for (int r = h; r < 16; r++) rows[r] = Vector512<float>.Zero;
        int p = 0;
        for (; p + 16 <= kc; p += 16)
        {
            for (int r = 0; r < h; r++)
            {
                Sse.Prefetch0(a + r * lda + p + PrefetchAhead);
                rows[r] = Vector512.Load(a + r * lda + p);
            }
            Transpose16x16.Run(rows, cols);
            for (int j = 0; j < 16; j++) Vector512.Store(cols[j], dst + (p + j) * h);
        }
        if (p < kc)
        {
            int rest = kc - p;
            var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(rest)).AsSingle();
            for (int r = 0; r < h; r++) rows[r] = Avx512F.MaskLoad(a + r * lda + p, mask, Vector512<float>.Zero);
            Transpose16x16.Run(rows, cols);
            for (int j = 0; j < rest; j++) Vector512.Store(cols[j], dst + (p + j) * h);
        }
    }

    /// <summary>A transposed: the h values of step p are adjacent in memory already.</summary>
    private static void PanelFromColumns(float* a, long lda, int h, int kc, float* dst)
    {
        var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(h)).AsSingle();
        for (int p = 0; p < kc; p++)
            Vector512.Store(Avx512F.MaskLoad(a + p * lda, mask, Vector512<float>.Zero), dst + p * h);
    }
}
