using System.Numerics;
using System.Runtime.Intrinsics;

namespace OptEq.Kernels.Native;

/// <summary>
/// C ← α·op(A)·op(B) + β·C on host pointers, row-major with leading dimensions. All cores.
/// This version is a correct vectorised loop; the packed, register-blocked kernel replaces it for float32.
/// </summary>
public static unsafe class NativeGemm
{
    public static void Gemm<T>(bool transA, bool transB, int m, int n, int k, T alpha,
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
