using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace OptEq.Kernels.Native;

/// <summary>
/// Packs a kc×nc block of op(B) into micro-panels of 32 columns for <see cref="SgemmMicroKernel"/>: panel j holds
/// columns [32j, 32j + 32) as [p][32] (the kernel's two vector loads per step are adjacent) and sits at dst + 32j·kc.
/// A last, narrower panel is padded with zeros, so the kernel always multiplies full vectors.
/// </summary>
internal static unsafe class SgemmPackB
{

    private const int Width = SgemmMicroKernel.Cols;

    /// <summary>b points at op(B)[0, 0] of the block: B + p0·ldb + j0, or B + j0·ldb + p0 when transposed.</summary>
    public static void Pack(bool transB, float* b, long ldb, int kc, int nc, float* dst)
    {
        if (!transB)
        {
            BlockFromRows(b, ldb, kc, nc, dst);
            return;
        }
        for (int j = 0; j < nc; j += Width)
            PanelFromRows(b + j * ldb, ldb, Math.Min(Width, nc - j), kc, dst + (long)j * kc);
    }

    /// <summary>
    /// B not transposed: step p of every panel is a piece of B's row p. Rows go in groups of <see cref="RowGroup"/>, each
    /// group across all panels, so B is read as a few sequential streams that the hardware prefetcher follows (panel by
    /// panel, every load would jump a row stride, often 4 KiB, and miss), and each panel still gets contiguous writes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // see SgemmMicroKernel: no slow first calls
    private static void BlockFromRows(float* b, long ldb, int kc, int nc, float* dst)
    {
        int full = nc / Width * Width;
        var lanes = Vector512<int>.Indices;
        var mask0 = Vector512.LessThan(lanes, Vector512.Create(nc - full)).AsSingle();
        var mask1 = Vector512.LessThan(lanes, Vector512.Create(nc - full - 16)).AsSingle();
        long panelStride = (long)kc * Width;
        for (int p0 = 0; p0 < kc; p0 += RowGroup)
        {
            int rows = Math.Min(RowGroup, kc - p0);
            float* src = b + p0 * ldb;
            float* to = dst + p0 * Width;
            for (int j = 0; j < full; j += Width, to += panelStride)
                for (int r = 0; r < rows; r++)
                {
                    Vector512.Store(Vector512.Load(src + r * ldb + j), to + r * Width);
                    Vector512.Store(Vector512.Load(src + r * ldb + j + 16), to + r * Width + 16);
                }
            if (full < nc)
                for (int r = 0; r < rows; r++)
                {
                    Vector512.Store(Avx512F.MaskLoad(src + r * ldb + full, mask0, Vector512<float>.Zero), to + r * Width);
                    Vector512.Store(Avx512F.MaskLoad(src + r * ldb + full + 16, mask1, Vector512<float>.Zero), to + r * Width + 16);
                }
        }
    }

    private const int RowGroup = 8;

    /// <summary>B transposed: each panel column is a row of B running along p, so 16×16 blocks are copied transposed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // see SgemmMicroKernel: no slow first calls
    private static void PanelFromRows(float* b, long ldb, int width, int kc, float* dst)
    {
        for (int half = 0; half < Width; half += 16)
        {
            int rows = Math.Clamp(width - half, 0, 16); // rows of B (columns of the panel) in this half; the rest read as zero
            for (int p = 0; p < kc; p += 16)
                Transpose16x16.Copy(b + half * ldb + p, ldb, rows, Math.Min(16, kc - p), dst + half + p * Width, Width);
        }
    }
}
