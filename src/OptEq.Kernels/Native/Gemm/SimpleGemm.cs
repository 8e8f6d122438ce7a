using System.Numerics;
using System.Runtime.Intrinsics;

namespace OptEq.Kernels.Native;

/// <summary>
/// A straightforward GEMM for any float type: rows of C in parallel, each updated by vectorised axpys over rows of op(B).
/// The float64 path (gradient checks), and float32 where the packed kernel cannot run (no AVX-512).
/// </summary>
internal static unsafe class SimpleGemm
{
    public static void Run<T>(bool transA, bool transB, int m, int n, int k, T alpha,
        T* a, long lda, T* b, long ldb, T beta, T* c, long ldc) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var pa = (nint)a; var pb = (nint)b; var pc = (nint)c;
        NativeParallel.ForRanges(m, (long)n * k, (i0, i1) =>
        {
            T* A = (T*)pa, B = (T*)pb, C = (T*)pc;
            for (int i = i0; i < i1; i++)
            {
                T* ci = C + i * ldc;
                if (beta == T.Zero) new Span<T>(ci, n).Clear();
                else if (beta != T.One) for (int j = 0; j < n; j++) ci[j] *= beta;
                for (int p = 0; p < k; p++)
                {
                    T aip = alpha * (transA ? A[p * lda + i] : A[i * lda + p]);
                    if (!transB)
                    {
                        T* bp = B + p * ldb;
                        var va = Vector512.Create(aip);
                        int j = 0;
                        for (; j <= n - Vector512<T>.Count; j += Vector512<T>.Count)
                            Vector512.Store(va * Vector512.Load(bp + j) + Vector512.Load(ci + j), ci + j);
                        for (; j < n; j++) ci[j] += aip * bp[j];
                    }
                    else
                        for (int j = 0; j < n; j++) ci[j] += aip * B[j * ldb + p];
                }
            }
        });
    }
}
