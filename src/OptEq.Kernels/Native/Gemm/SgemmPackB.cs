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
    /// <summary>Floats ahead along a source row to prefetch: each of the 16 rows read together is its own stream, and
    /// rows a stride apart (often 4 KiB) defeat the hardware prefetcher.</summary>
    private const int PrefetchAhead = 32;

    private const int Width = SgemmMicroKernel.Cols;

    /// <summary>b points at op(B)[0, 0] of the block: B + p0·ldb + j0, or B + j0·ldb + p0 when transposed.</summary>
    [SkipLocalsInit] // the stack blocks are filled before they are read; zeroing them costs more than a tiny GEMM
    public static void Pack(bool transB, float* b, long ldb, int kc, int nc, float* dst)
    {
        if (!transB)
        {
            BlockFromRows(b, ldb, kc, nc, dst);
            return;
        }
        Vector512<float>* rows = stackalloc Vector512<float>[16];
        Vector512<float>* cols = stackalloc Vector512<float>[16];
        for (int j = 0; j < nc; j += Width)
            PanelFromRows(b + j * ldb, ldb, Math.Min(Width, nc - j), kc, dst + (long)j * kc, rows, cols);
    }

    /// <summary>
    /// B not transposed: step p of every panel is a piece of B's row p. Rows go in groups of <see cref="RowGroup"/>, each
    /// group across all panels, so B is read as a few sequential streams that the hardware prefetcher follows (panel by
    /// panel, every load would jump a row stride, often 4 KiB, and miss), and each panel still gets contiguous writes.
    /// </summary>
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

    /// <summary>B transposed: each panel column is a row of B running along p, so 16×16 blocks are transposed in registers.</summary>
    private static void PanelFromRows(float* b, long ldb, int width, int kc, float* dst, Vector512<float>* rows, Vector512<float>* cols)
    {
        for (int half = 0; half < Width; half += 16)
        {
            int count = Math.Clamp(width - half, 0, 16); // rows of B (columns of the panel) in this half
            float* src = b + half * ldb;
            float* to = dst + half;
            for (int r = count; r < 16; r++) rows[r] = Vector512<float>.Zero;
            int p = 0;
            for (; p + 16 <= kc; p += 16)
            {
                for (int r = 0; r < count; r++)
                {
                    Sse.Prefetch0(src + r * ldb + p + PrefetchAhead);
                    rows[r] = Vector512.Load(src + r * ldb + p);
                }
                Transpose16x16.Run(rows, cols);
                for (int j = 0; j < 16; j++) Vector512.Store(cols[j], to + (p + j) * Width);
            }
            if (p < kc)
            {
                int rest = kc - p;
                var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(rest)).AsSingle();
                for (int r = 0; r < count; r++) rows[r] = Avx512F.MaskLoad(src + r * ldb + p, mask, Vector512<float>.Zero);
                Transpose16x16.Run(rows, cols);
                for (int j = 0; j < rest; j++) Vector512.Store(cols[j], to + (p + j) * Width);
            }
        }
    }
}
