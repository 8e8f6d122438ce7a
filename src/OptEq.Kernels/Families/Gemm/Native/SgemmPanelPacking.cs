using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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
                    if (mr == 6 && h == 6 && Vector128.IsHardwareAccelerated)
                    {
                        // Exactly 6 floats each way: a wider load could read past the end of A.
                        Vector128.Store(Vector128.Load(from + i0), to);
                        to[4] = from[i0 + 4];
                        to[5] = from[i0 + 5];
                        continue;
                    }
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
            if (Avx.IsSupported && mr == 6 && h == 6)
            {
                PackRowsAvx(a + i0 * lda, lda, kc, dst);
                continue;
            }
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
                        if (w == 16 && nr == 16 && Vector256.IsHardwareAccelerated)
                        {
                            Vector256.Store(Vector256.Load(from), row);
                            Vector256.Store(Vector256.Load(from + 8), row + 8);
                            continue;
                        }
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
            int p0 = 0;
            if (Avx.IsSupported && w == nr && nr % 8 == 0)
            {
                // Whole 8×8 blocks by register transposes: 8 rows of B read 8 floats each, 8 steps of the panel written.
                for (; p0 + 8 <= kc; p0 += 8)
                    for (int c0 = 0; c0 < nr; c0 += 8)
                        Transpose8x8Avx(from + c0 * ldb + p0, ldb, dst + p0 * nr + c0, nr);
            }
            for (int p = p0; p < kc; p++)
            {
                float* to = dst + p * nr;
                int c = 0;
                for (; c < w; c++) to[c] = from[c * ldb + p];
                for (; c < nr; c++) to[c] = 0f;
            }
        }
    }

    private const int RowGroup = 8;

    /// <summary>
    /// One full 6-row panel of non-transposed A (rows at <paramref name="a"/>, stride lda) into [p][6]: 8 steps at a time
    /// by an 8×8 register transpose (two zero rows). Each step is stored as 8 floats at stride 6; the 2 that overhang are
    /// overwritten by the next step, the next panel, or land in the workspace's slack.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PackRowsAvx(float* a, long lda, int kc, float* dst)
    {
        float* a0 = a, a1 = a + lda, a2 = a + 2 * lda, a3 = a + 3 * lda, a4 = a + 4 * lda, a5 = a + 5 * lda;
        int p = 0;
        for (; p + 8 <= kc; p += 8)
        {
            Vector256<float> r0 = Avx.LoadVector256(a0 + p), r1 = Avx.LoadVector256(a1 + p), r2 = Avx.LoadVector256(a2 + p);
            Vector256<float> r3 = Avx.LoadVector256(a3 + p), r4 = Avx.LoadVector256(a4 + p), r5 = Avx.LoadVector256(a5 + p);
            Vector256<float> r6 = Vector256<float>.Zero, r7 = Vector256<float>.Zero;
            Transpose8x8.InRegisters(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7);
            float* to = dst + p * 6;
            Avx.Store(to, r0); Avx.Store(to + 6, r1); Avx.Store(to + 12, r2); Avx.Store(to + 18, r3);
            Avx.Store(to + 24, r4); Avx.Store(to + 30, r5); Avx.Store(to + 36, r6); Avx.Store(to + 42, r7);
        }
        for (; p < kc; p++)
        {
            float* to = dst + p * 6;
            to[0] = a0[p]; to[1] = a1[p]; to[2] = a2[p]; to[3] = a3[p]; to[4] = a4[p]; to[5] = a5[p];
        }
    }

    /// <summary>dst[q·ldd + r] = src[r·lds + q] for an 8×8 block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8Avx(float* src, long lds, float* dst, long ldd)
    {
        Vector256<float> r0 = Avx.LoadVector256(src), r1 = Avx.LoadVector256(src + lds), r2 = Avx.LoadVector256(src + 2 * lds);
        Vector256<float> r3 = Avx.LoadVector256(src + 3 * lds), r4 = Avx.LoadVector256(src + 4 * lds), r5 = Avx.LoadVector256(src + 5 * lds);
        Vector256<float> r6 = Avx.LoadVector256(src + 6 * lds), r7 = Avx.LoadVector256(src + 7 * lds);
        Transpose8x8.InRegisters(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7);
        Avx.Store(dst, r0); Avx.Store(dst + ldd, r1); Avx.Store(dst + 2 * ldd, r2); Avx.Store(dst + 3 * ldd, r3);
        Avx.Store(dst + 4 * ldd, r4); Avx.Store(dst + 5 * ldd, r5); Avx.Store(dst + 6 * ldd, r6); Avx.Store(dst + 7 * ldd, r7);
    }
}
