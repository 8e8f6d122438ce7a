using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace OptEq.Kernels.Native;

/// <summary>
/// The 128-bit micro-kernel (SSE on x86, NEON on ARM64): a 6×8 tile of C, two Vector128 per row.
/// </summary>
/// <remarks>
/// Register budget: 12 accumulators, 2 for the B row, 1 for the broadcast A element = 15, which fits x86's 16 xmm; ARM64
/// has 32 vector registers and could hold a larger tile, but one shape for both keeps one kernel to test (the ARM64 build
/// is compiled here, not run). Multiply-adds are fused where the CPU has FMA (NEON always), else a multiply and an add.
/// Blocking: a 256×8 B panel is 8 KiB of L1.
/// </remarks>
internal readonly struct SgemmTile6x8 : ISgemmTileKernel
{
    public static int Rows => 6;
    public static int Cols => 8;
    public static int KC => 256;
    public static int MC => 144;
    public static int NC => 4096;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // no tier-0 code (vectors on the stack) for the first GEMMs
    public static unsafe void Run(int kc, float* a, float* b, float* c, long ldc, float alpha, float beta)
    {
        Vector128<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector128<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector128.Load(b);
            var b1 = Vector128.Load(b + 4);
            var x = Vector128.Create(a[0]); c00 = Vector128.MultiplyAddEstimate(x, b0, c00); c01 = Vector128.MultiplyAddEstimate(x, b1, c01);
            x = Vector128.Create(a[1]); c10 = Vector128.MultiplyAddEstimate(x, b0, c10); c11 = Vector128.MultiplyAddEstimate(x, b1, c11);
            x = Vector128.Create(a[2]); c20 = Vector128.MultiplyAddEstimate(x, b0, c20); c21 = Vector128.MultiplyAddEstimate(x, b1, c21);
            x = Vector128.Create(a[3]); c30 = Vector128.MultiplyAddEstimate(x, b0, c30); c31 = Vector128.MultiplyAddEstimate(x, b1, c31);
            x = Vector128.Create(a[4]); c40 = Vector128.MultiplyAddEstimate(x, b0, c40); c41 = Vector128.MultiplyAddEstimate(x, b1, c41);
            x = Vector128.Create(a[5]); c50 = Vector128.MultiplyAddEstimate(x, b0, c50); c51 = Vector128.MultiplyAddEstimate(x, b1, c51);
            a += 6;
            b += 8;
        }
        var va = Vector128.Create(alpha);
        StoreRow(c, c00, c01, va, beta);
        StoreRow(c + ldc, c10, c11, va, beta);
        StoreRow(c + 2 * ldc, c20, c21, va, beta);
        StoreRow(c + 3 * ldc, c30, c31, va, beta);
        StoreRow(c + 4 * ldc, c40, c41, va, beta);
        StoreRow(c + 5 * ldc, c50, c51, va, beta);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void StoreRow(float* c, Vector128<float> acc0, Vector128<float> acc1, Vector128<float> alpha, float beta)
    {
        if (beta == 0)
        {
            Vector128.Store(acc0 * alpha, c);
            Vector128.Store(acc1 * alpha, c + 4);
        }
        else
        {
            var vb = Vector128.Create(beta);
            Vector128.Store(Vector128.MultiplyAddEstimate(acc0, alpha, vb * Vector128.Load(c)), c);
            Vector128.Store(Vector128.MultiplyAddEstimate(acc1, alpha, vb * Vector128.Load(c + 4)), c + 4);
        }
    }
}
