using System.Buffers;
using System.Numerics;

namespace OptEq.Kernels.Native;

/// <summary>
/// A straightforward GEMM for any float type, rows of C in parallel, on the <see cref="VectorDriver"/> at every width: the
/// float64 path (gradient checks), and float32 where no packed kernel runs (no SIMD acceleration at all). With B not transposed, each row of C is built from vector axpys over rows of
/// op(B); with B transposed, each element is a vector dot product of a row of op(A) and a row of B.
/// </summary>
internal static unsafe class SimpleGemm
{
    public static void Run<T>(bool transA, bool transB, int m, int n, int k, T alpha,
        T* a, long lda, T* b, long ldb, T beta, T* c, long ldc) where T : unmanaged, IFloatingPointIeee754<T> =>
        NativeParallel.For(m, (long)n * k, new RowsOfC<T> { TransA = transA, TransB = transB, N = n, K = k, Alpha = alpha, A = a, Lda = lda, B = b, Ldb = ldb, Beta = beta, C = c, Ldc = ldc });

    private struct RowsOfC<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public bool TransA, TransB;
        public int N, K;
        public T Alpha, Beta;
        public T* A, B, C;
        public long Lda, Ldb, Ldc;

        public readonly void Run(int i0, int i1)
        {
            if (TransB) RowsByDots(TransA, i0, i1, N, K, Alpha, A, Lda, B, Ldb, Beta, C, Ldc);
            else RowsByAxpys(TransA, i0, i1, N, K, Alpha, A, Lda, B, Ldb, Beta, C, Ldc);
        }
    }

    private static void RowsByAxpys<T>(bool transA, int i0, int i1, int n, int k, T alpha,
        T* a, long lda, T* b, long ldb, T beta, T* c, long ldc) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = i0; i < i1; i++)
        {
            T* ci = c + i * ldc;
            if (beta == T.Zero) new Span<T>(ci, n).Clear();
            else if (beta != T.One) for (int j = 0; j < n; j++) ci[j] *= beta;
            for (int p = 0; p < k; p++)
            {
                T aip = alpha * (transA ? a[p * lda + i] : a[i * lda + p]);
                VectorDriver.Map(new AxpyOp<T>(aip), b + p * ldb, ci, ci, n);
            }
        }
    }

    private static void RowsByDots<T>(bool transA, int i0, int i1, int n, int k, T alpha,
        T* a, long lda, T* b, long ldb, T beta, T* c, long ldc) where T : unmanaged, IFloatingPointIeee754<T>
    {
        // A transposed: its row i is strided, so it is gathered once into a contiguous buffer.
        T[]? rented = transA ? ArrayPool<T>.Shared.Rent(k) : null;
        try
        {
            fixed (T* gathered = rented)
                for (int i = i0; i < i1; i++)
                {
                    T* ai = a + i * lda;
                    if (transA)
                    {
                        for (int p = 0; p < k; p++) gathered[p] = a[p * lda + i];
                        ai = gathered;
                    }
                    T* ci = c + i * ldc;
                    for (int j = 0; j < n; j++)
                    {
                        T dot = alpha * Dot(ai, b + j * ldb, k);
                        ci[j] = beta == T.Zero ? dot : dot + beta * ci[j];
                    }
                }
        }
        finally
        {
            if (rented is not null) ArrayPool<T>.Shared.Return(rented);
        }
    }

    private static T Dot<T>(T* x, T* y, int length) where T : unmanaged, IFloatingPointIeee754<T> => VectorDriver.Reduce(new DotOp<T>(), x, y, length);
}
