using System.Runtime.CompilerServices;

namespace OptEq.Kernels.Native;

/// <summary>
/// The packing of the 256- and 128-bit micro-kernels (<see cref="ISgemmTileKernel"/>), shared by both and written without
/// intrinsics: op(A) in panels of <c>mr</c> rows stored [p][mr], op(B) in panels of <c>nr</c> columns stored [p][nr],
/// each panel zero-padded to full height or width so the kernel always multiplies whole tiles. Contiguous runs are
/// copied as blocks; the strided direction is gathered element by element (packing is O(mk + kn) against the
/// kernel's O(mnk)). The AVX-512 kernel keeps its own masked, transposing packers (<see cref="SgemmPackA"/>, <see cref="SgemmPackB"/>).
/// </summary>
internal static unsafe class SgemmPanelPacking
{
    /// <summary>
    /// Packs an mc×kc block of op(A) (a = op(A)[0, 0] of the block) into ⌈mc/mr⌉ panels; panel q sits at dst + q·mr·kc.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // no slow first calls
    public static void PackA(bool transA, float* a, long lda, int mc, int kc, int mr, float* dst)
    {
        if (transA)
        {
            // op(A)[i, p] = A[p, i]: step p of every panel is a piece of row p of the stored A, so rows are walked in
            // order, each across all panels (panel by panel, every step would jump a row stride).
            long panelStride = (long)mr * kc;
            for (int p = 0; p < kc; p++)
            {
                float* from = a + p * lda, to = dst + p * mr;
                for (int i0 = 0; i0 < mc; i0 += mr, to += panelStride)
                {
                    int h = Math.Min(mr, mc - i0), r = 0;
                    for (; r < h; r++) to[r] = from[i0 + r];
                    for (; r < mr; r++) to[r] = 0f;
                }
            }
            return;
        }
        for (int i0 = 0; i0 < mc; i0 += mr, dst += (long)mr * kc)
        {
            // op(A)[i, p] = A[i, p]: each row runs along p and is scattered with stride mr.
            int h = Math.Min(mr, mc - i0);
            for (int r = 0; r < mr; r++)
            {
                float* to = dst + r;
                if (r < h)
                {
                    float* from = a + (i0 + r) * lda;
                    for (int p = 0; p < kc; p++) to[p * mr] = from[p];
                }
                else
                    for (int p = 0; p < kc; p++) to[p * mr] = 0f;
            }
        }
    }

    /// <summary>
    /// Packs a kc×nc block of op(B) (b = op(B)[0, 0] of the block) into ⌈nc/nr⌉ panels; panel j sits at dst + j·nr·kc.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // no slow first calls
    public static void PackB(bool transB, float* b, long ldb, int kc, int nc, int nr, float* dst)
    {
        if (!transB)
        {
            // op(B)[p, j] = B[p, j]: step p of a panel is a piece of B's row p. Rows go in groups, each group across all
            // panels, so B is read as a few sequential streams the prefetcher follows.
            long panelStride = (long)kc * nr;
            for (int p0 = 0; p0 < kc; p0 += RowGroup)
            {
                int rows = Math.Min(RowGroup, kc - p0);
                float* to = dst + p0 * nr;
                for (int j0 = 0; j0 < nc; j0 += nr, to += panelStride)
                {
                    int w = Math.Min(nr, nc - j0);
                    for (int r = 0; r < rows; r++)
                    {
                        float* from = b + (p0 + r) * ldb + j0, row = to + r * nr;
                        new ReadOnlySpan<float>(from, w).CopyTo(new Span<float>(row, w));
                        if (w < nr) new Span<float>(row + w, nr - w).Clear();
                    }
                }
            }
            return;
        }
        // op(B)[p, j] = B[j, p]: step p of a panel gathers element p of nr rows of the stored B; the rows are read as nr
        // sequential streams and the panel is written in order.
        for (int j0 = 0; j0 < nc; j0 += nr, dst += (long)kc * nr)
        {
            int w = Math.Min(nr, nc - j0);
            float* from = b + j0 * ldb;
            for (int p = 0; p < kc; p++)
            {
                float* to = dst + p * nr;
                int c = 0;
                for (; c < w; c++) to[c] = from[c * ldb + p];
                for (; c < nr; c++) to[c] = 0f;
            }
        }
    }

    private const int RowGroup = 8;
}
