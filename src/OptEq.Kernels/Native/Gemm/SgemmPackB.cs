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
    [SkipLocalsInit] // the stack blocks are filled before they are read; zeroing them costs more than a tiny GEMM
    public static void Pack(bool transB, float* b, long ldb, int kc, int nc, float* dst)
    {
        Vector512<float>* rows = stackalloc Vector512<float>[16];
        Vector512<float>* cols = stackalloc Vector512<float>[16];
        for (int j = 0; j < nc; j += Width)
        {
            int width = Math.Min(Width, nc - j);
            float* panel = dst + (long)j * kc;
            if (transB) PanelFromRows(b + j * ldb, ldb, width, kc, panel, rows, cols);
            else PanelFromColumns(b + j, ldb, width, kc, panel);
        }
    }

    /// <summary>B not transposed: step p of the panel is a contiguous run of B's row p.</summary>
    private static void PanelFromColumns(float* b, long ldb, int width, int kc, float* dst)
    {
        if (width == Width)
        {
            for (int p = 0; p < kc; p++)
            {
                Vector512.Store(Vector512.Load(b + p * ldb), dst + p * Width);
                Vector512.Store(Vector512.Load(b + p * ldb + 16), dst + p * Width + 16);
            }
            return;
        }
        var lanes = Vector512<int>.Indices;
        var mask0 = Vector512.LessThan(lanes, Vector512.Create(width)).AsSingle();
        var mask1 = Vector512.LessThan(lanes, Vector512.Create(width - 16)).AsSingle();
        for (int p = 0; p < kc; p++)
        {
            Vector512.Store(Avx512F.MaskLoad(b + p * ldb, mask0, Vector512<float>.Zero), dst + p * Width);
            Vector512.Store(Avx512F.MaskLoad(b + p * ldb + 16, mask1, Vector512<float>.Zero), dst + p * Width + 16);
        }
    }

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
                for (int r = 0; r < count; r++) rows[r] = Vector512.Load(src + r * ldb + p);
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
