using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace OptEq.Kernels.Native;

/// <summary>
/// The 256-bit micro-kernel (AVX2/FMA): a 6×16 tile of C, two Vector256 per row.
/// </summary>
/// <remarks>
/// Register budget (16 ymm): 6 rows × 2 vectors = 12 accumulators, 2 for the B row, 1 for the broadcast A element; each
/// step issues 12 FMAs for 2 loads and 6 broadcasts, enough independent FMAs to cover a 4–5-cycle FMA latency on two FMA
/// pipes. Blocking for a 32 KiB L1d and 512 KiB L2 (Zen 2/3, Haswell to Ice Lake): a 256×16 B panel is 16 KiB, a 144×256
/// A block 144 KiB.
/// </remarks>
internal readonly struct SgemmTile6x16 : ISgemmTileKernel
{
    public static int Rows => 6;
    public static int Cols => 16;
    public static int KC => 256;
    public static int MC => 144;
    public static int NC => 4096;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // no tier-0 code (vectors on the stack) for the first GEMMs
    public static unsafe void Run(int kc, float* a, float* b, float* c, long ldc, float alpha, float beta)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        SgemmPrefetch.Tile(c, ldc, 6);
        int p = 0;
        for (; p + 1 < kc; p += 2) // two steps per iteration: half the loop overhead beside 24 FMAs
        {
            Step(a, b, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
            Step(a + 6, b + 16, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
            a += 12;
            b += 32;
        }
        if (p < kc) Step(a, b, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
        var va = Vector256.Create(alpha);
        StoreRow(c, c00, c01, va, beta);
        StoreRow(c + ldc, c10, c11, va, beta);
        StoreRow(c + 2 * ldc, c20, c21, va, beta);
        StoreRow(c + 3 * ldc, c30, c31, va, beta);
        StoreRow(c + 4 * ldc, c40, c41, va, beta);
        StoreRow(c + 5 * ldc, c50, c51, va, beta);
    }

    /// <summary>One step p: the 6×16 outer product of A[p, 0..6) and B[p, 0..16) added to the accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Step(float* a, float* b,
        ref Vector256<float> c00, ref Vector256<float> c01, ref Vector256<float> c10, ref Vector256<float> c11,
        ref Vector256<float> c20, ref Vector256<float> c21, ref Vector256<float> c30, ref Vector256<float> c31,
        ref Vector256<float> c40, ref Vector256<float> c41, ref Vector256<float> c50, ref Vector256<float> c51)
    {
        var b0 = Vector256.Load(b);
        var b1 = Vector256.Load(b + 8);
        var x = Vector256.Create(a[0]); c00 = Vector256.MultiplyAddEstimate(x, b0, c00); c01 = Vector256.MultiplyAddEstimate(x, b1, c01);
        x = Vector256.Create(a[1]); c10 = Vector256.MultiplyAddEstimate(x, b0, c10); c11 = Vector256.MultiplyAddEstimate(x, b1, c11);
        x = Vector256.Create(a[2]); c20 = Vector256.MultiplyAddEstimate(x, b0, c20); c21 = Vector256.MultiplyAddEstimate(x, b1, c21);
        x = Vector256.Create(a[3]); c30 = Vector256.MultiplyAddEstimate(x, b0, c30); c31 = Vector256.MultiplyAddEstimate(x, b1, c31);
        x = Vector256.Create(a[4]); c40 = Vector256.MultiplyAddEstimate(x, b0, c40); c41 = Vector256.MultiplyAddEstimate(x, b1, c41);
        x = Vector256.Create(a[5]); c50 = Vector256.MultiplyAddEstimate(x, b0, c50); c51 = Vector256.MultiplyAddEstimate(x, b1, c51);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void StoreRow(float* c, Vector256<float> acc0, Vector256<float> acc1, Vector256<float> alpha, float beta)
    {
        if (beta == 0)
        {
            Vector256.Store(acc0 * alpha, c);
            Vector256.Store(acc1 * alpha, c + 8);
        }
        else
        {
            var vb = Vector256.Create(beta);
            Vector256.Store(Vector256.MultiplyAddEstimate(acc0, alpha, vb * Vector256.Load(c)), c);
            Vector256.Store(Vector256.MultiplyAddEstimate(acc1, alpha, vb * Vector256.Load(c + 8)), c + 8);
        }
    }
}
