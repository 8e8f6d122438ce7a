using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace OptEq.Kernels.Native;

/// <summary>
/// The register-blocked float32 micro-kernel: an h×32 tile of C (h ≤ 14 rows, two Vector512 columns) accumulated over kc
/// steps from a packed A panel ([p][h], see <see cref="SgemmPackA"/>) and a packed B panel ([p][32], see <see cref="SgemmPackB"/>).
/// </summary>
/// <remarks>
/// Register budget (32 zmm): 14 rows × 2 vectors = 28 accumulators, 2 for the B row, 1 for the broadcast A element.
/// Each k step issues 28 FMAs for 2 vector loads and 14 broadcasts, enough independent FMAs to cover the 4-cycle FMA
/// latency on both FMA pipes. Rows and vectors are type arguments, so the JIT removes what a tile does not use: one source
/// gives 14 heights (the driver splits row blocks into panels of nearly equal height instead of leaving a thin remainder)
/// and a one-vector variant for a last panel of at most 16 columns (half the work of a padded 32-column tile).
/// </remarks>
internal static unsafe class SgemmMicroKernel
{
    public const int MaxRows = 14;
    public const int Cols = 32;

    /// <summary>C[0..h, 0..cols) ← α·(Apanel·Bpanel) + β·C; β == 0 never reads C. cols ≤ 32; columns past cols are not written.</summary>
    public static void Run(int h, int kc, float* a, float* b, float* c, long ldc, float alpha, float beta, int cols)
    {
        if (cols > 16) Run<Vectors2>(h, kc, a, b, c, ldc, alpha, beta, cols);
        else Run<Vectors1>(h, kc, a, b, c, ldc, alpha, beta, cols);
    }

    private static void Run<TVectors>(int h, int kc, float* a, float* b, float* c, long ldc, float alpha, float beta, int cols)
        where TVectors : struct, IConstant
    {
        switch (h)
        {
            case 14: Tile<Rows14, TVectors>(kc, a, b, c, ldc, alpha, beta, cols); break;
            case 13: Tile<Rows13, TVectors>(kc, a, b, c, ldc, alpha, beta, cols); break;
            case 12: Tile<Rows12, TVectors>(kc, a, b, c, ldc, alpha, beta, cols); break;
            case 11: Tile<Rows11, TVectors>(kc, a, b, c, ldc, alpha, beta, cols); break;
            case 10: Tile<Rows10, TVectors>(kc, a, b, c, ldc, alpha, beta, cols); break;
            case 9: Tile<Rows9, TVectors>(kc, a, b, c, ldc, alpha, beta, cols); break;
            case 8: Tile<Rows8, TVectors>(kc, a, b, c, ldc, alpha, beta, cols); break;
            case 7: Tile<Rows7, TVectors>(kc, a, b, c, ldc, alpha, beta, cols); break;
            case 6: Tile<Rows6, TVectors>(kc, a, b, c, ldc, alpha, beta, cols); break;
            case 5: Tile<Rows5, TVectors>(kc, a, b, c, ldc, alpha, beta, cols); break;
            case 4: Tile<Rows4, TVectors>(kc, a, b, c, ldc, alpha, beta, cols); break;
            case 3: Tile<Rows3, TVectors>(kc, a, b, c, ldc, alpha, beta, cols); break;
            case 2: Tile<Rows2, TVectors>(kc, a, b, c, ldc, alpha, beta, cols); break;
            case 1: Tile<Rows1, TVectors>(kc, a, b, c, ldc, alpha, beta, cols); break;
            default: throw new ArgumentOutOfRangeException(nameof(h), h, $"a micro-tile has 1 to {MaxRows} rows");
        }
    }

    // Fully optimised from the first call (no tier-0 code, whose vectors live on the stack): the first GEMMs of a run are
    // as fast as the later ones. The packing and driver loops are marked the same way.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TRows, TVectors>(int kc, float* a, float* b, float* c, long ldc, float alpha, float beta, int cols)
        where TRows : struct, IConstant where TVectors : struct, IConstant
    {
        // JIT-time constants: every `h >` and `wide` test below folds away.
        int h = TRows.Value;
        bool wide = TVectors.Value == 2;

        // Fetch the C tile while the k loop runs, so the final loads and stores do not wait for it.
        for (int r = 0; r < h; r++)
        {
            Sse.Prefetch0(c + r * ldc);
            if (wide) Sse.Prefetch0(c + r * ldc + 16);
        }

        // Accumulators: row r of the tile is (c{r}0, c{r}1), columns 0-15 and 16-31.
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector512<float> c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default;
        Vector512<float> c80 = default, c81 = default, c90 = default, c91 = default;
        Vector512<float> c100 = default, c101 = default, c110 = default, c111 = default;
        Vector512<float> c120 = default, c121 = default, c130 = default, c131 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = wide ? Vector512.Load(b + 16) : default;
            { var x = Vector512.Create(a[0]); c00 = Vector512.FusedMultiplyAdd(x, b0, c00); if (wide) c01 = Vector512.FusedMultiplyAdd(x, b1, c01); }
            if (h > 1) { var x = Vector512.Create(a[1]); c10 = Vector512.FusedMultiplyAdd(x, b0, c10); if (wide) c11 = Vector512.FusedMultiplyAdd(x, b1, c11); }
            if (h > 2) { var x = Vector512.Create(a[2]); c20 = Vector512.FusedMultiplyAdd(x, b0, c20); if (wide) c21 = Vector512.FusedMultiplyAdd(x, b1, c21); }
            if (h > 3) { var x = Vector512.Create(a[3]); c30 = Vector512.FusedMultiplyAdd(x, b0, c30); if (wide) c31 = Vector512.FusedMultiplyAdd(x, b1, c31); }
            if (h > 4) { var x = Vector512.Create(a[4]); c40 = Vector512.FusedMultiplyAdd(x, b0, c40); if (wide) c41 = Vector512.FusedMultiplyAdd(x, b1, c41); }
            if (h > 5) { var x = Vector512.Create(a[5]); c50 = Vector512.FusedMultiplyAdd(x, b0, c50); if (wide) c51 = Vector512.FusedMultiplyAdd(x, b1, c51); }
            if (h > 6) { var x = Vector512.Create(a[6]); c60 = Vector512.FusedMultiplyAdd(x, b0, c60); if (wide) c61 = Vector512.FusedMultiplyAdd(x, b1, c61); }
            if (h > 7) { var x = Vector512.Create(a[7]); c70 = Vector512.FusedMultiplyAdd(x, b0, c70); if (wide) c71 = Vector512.FusedMultiplyAdd(x, b1, c71); }
            if (h > 8) { var x = Vector512.Create(a[8]); c80 = Vector512.FusedMultiplyAdd(x, b0, c80); if (wide) c81 = Vector512.FusedMultiplyAdd(x, b1, c81); }
            if (h > 9) { var x = Vector512.Create(a[9]); c90 = Vector512.FusedMultiplyAdd(x, b0, c90); if (wide) c91 = Vector512.FusedMultiplyAdd(x, b1, c91); }
            if (h > 10) { var x = Vector512.Create(a[10]); c100 = Vector512.FusedMultiplyAdd(x, b0, c100); if (wide) c101 = Vector512.FusedMultiplyAdd(x, b1, c101); }
            if (h > 11) { var x = Vector512.Create(a[11]); c110 = Vector512.FusedMultiplyAdd(x, b0, c110); if (wide) c111 = Vector512.FusedMultiplyAdd(x, b1, c111); }
            if (h > 12) { var x = Vector512.Create(a[12]); c120 = Vector512.FusedMultiplyAdd(x, b0, c120); if (wide) c121 = Vector512.FusedMultiplyAdd(x, b1, c121); }
            if (h > 13) { var x = Vector512.Create(a[13]); c130 = Vector512.FusedMultiplyAdd(x, b0, c130); if (wide) c131 = Vector512.FusedMultiplyAdd(x, b1, c131); }
            a += h;
            b += Cols;
        }

        var va = Vector512.Create(alpha);
        if (cols == (wide ? 32 : 16))
        {
            StoreRow(c + 0 * ldc, c00, c01, va, beta, wide);
            if (h > 1) StoreRow(c + 1 * ldc, c10, c11, va, beta, wide);
            if (h > 2) StoreRow(c + 2 * ldc, c20, c21, va, beta, wide);
            if (h > 3) StoreRow(c + 3 * ldc, c30, c31, va, beta, wide);
            if (h > 4) StoreRow(c + 4 * ldc, c40, c41, va, beta, wide);
            if (h > 5) StoreRow(c + 5 * ldc, c50, c51, va, beta, wide);
            if (h > 6) StoreRow(c + 6 * ldc, c60, c61, va, beta, wide);
            if (h > 7) StoreRow(c + 7 * ldc, c70, c71, va, beta, wide);
            if (h > 8) StoreRow(c + 8 * ldc, c80, c81, va, beta, wide);
            if (h > 9) StoreRow(c + 9 * ldc, c90, c91, va, beta, wide);
            if (h > 10) StoreRow(c + 10 * ldc, c100, c101, va, beta, wide);
            if (h > 11) StoreRow(c + 11 * ldc, c110, c111, va, beta, wide);
            if (h > 12) StoreRow(c + 12 * ldc, c120, c121, va, beta, wide);
            if (h > 13) StoreRow(c + 13 * ldc, c130, c131, va, beta, wide);
        }
        else
        {
            var lanes = Vector512<int>.Indices;
            var mask0 = Vector512.LessThan(lanes, Vector512.Create(cols)).AsSingle();
            var mask1 = Vector512.LessThan(lanes, Vector512.Create(cols - 16)).AsSingle();
            StoreRowMasked(c + 0 * ldc, c00, c01, va, beta, wide, mask0, mask1);
            if (h > 1) StoreRowMasked(c + 1 * ldc, c10, c11, va, beta, wide, mask0, mask1);
            if (h > 2) StoreRowMasked(c + 2 * ldc, c20, c21, va, beta, wide, mask0, mask1);
            if (h > 3) StoreRowMasked(c + 3 * ldc, c30, c31, va, beta, wide, mask0, mask1);
            if (h > 4) StoreRowMasked(c + 4 * ldc, c40, c41, va, beta, wide, mask0, mask1);
            if (h > 5) StoreRowMasked(c + 5 * ldc, c50, c51, va, beta, wide, mask0, mask1);
            if (h > 6) StoreRowMasked(c + 6 * ldc, c60, c61, va, beta, wide, mask0, mask1);
            if (h > 7) StoreRowMasked(c + 7 * ldc, c70, c71, va, beta, wide, mask0, mask1);
            if (h > 8) StoreRowMasked(c + 8 * ldc, c80, c81, va, beta, wide, mask0, mask1);
            if (h > 9) StoreRowMasked(c + 9 * ldc, c90, c91, va, beta, wide, mask0, mask1);
            if (h > 10) StoreRowMasked(c + 10 * ldc, c100, c101, va, beta, wide, mask0, mask1);
            if (h > 11) StoreRowMasked(c + 11 * ldc, c110, c111, va, beta, wide, mask0, mask1);
            if (h > 12) StoreRowMasked(c + 12 * ldc, c120, c121, va, beta, wide, mask0, mask1);
            if (h > 13) StoreRowMasked(c + 13 * ldc, c130, c131, va, beta, wide, mask0, mask1);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(float* c, Vector512<float> acc0, Vector512<float> acc1, Vector512<float> alpha, float beta, bool wide)
    {
        if (beta == 0)
        {
            Vector512.Store(acc0 * alpha, c);
            if (wide) Vector512.Store(acc1 * alpha, c + 16);
        }
        else
        {
            var vb = Vector512.Create(beta);
            Vector512.Store(Vector512.FusedMultiplyAdd(acc0, alpha, vb * Vector512.Load(c)), c);
            if (wide) Vector512.Store(Vector512.FusedMultiplyAdd(acc1, alpha, vb * Vector512.Load(c + 16)), c + 16);
        }
    }

    /// <summary>The edge-column store: masked loads and stores touch only the first cols columns (they do not fault past them).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRowMasked(float* c, Vector512<float> acc0, Vector512<float> acc1, Vector512<float> alpha, float beta, bool wide,
        Vector512<float> mask0, Vector512<float> mask1)
    {
        var r0 = acc0 * alpha;
        if (beta != 0) r0 = Vector512.FusedMultiplyAdd(Vector512.Create(beta), Avx512F.MaskLoad(c, mask0, Vector512<float>.Zero), r0);
        Avx512F.MaskStore(c, mask0, r0);
        if (!wide) return;
        var r1 = acc1 * alpha;
        if (beta != 0) r1 = Vector512.FusedMultiplyAdd(Vector512.Create(beta), Avx512F.MaskLoad(c + 16, mask1, Vector512<float>.Zero), r1);
        Avx512F.MaskStore(c + 16, mask1, r1);
    }
}
