using System.Numerics;

namespace OptEq.Kernels.Native;

public sealed unsafe partial class NativeCpuDevice
{
    protected override void GemmCore<T>(MatrixOp opA, MatrixOp opB, int m, int n, int k, int batch, T alpha,
        Storage<T> a, MatrixLayout la, Storage<T> b, MatrixLayout lb, T beta, Storage<T> c, MatrixLayout lc)
    {
        var entries = new GemmEntries<T>
        {
            TransA = opA == MatrixOp.Transpose, TransB = opB == MatrixOp.Transpose, M = m, N = n, K = k, Alpha = alpha, Beta = beta,
            A = Ptr(a, la.Offset), B = Ptr(b, lb.Offset), C = Ptr(c, lc.Offset), La = la, Lb = lb, Lc = lc,
        };
        // Entries too small for two threads each (Anderson's per-sample Gram and mixing products) are spread across
        // the cores instead: the GEMM keeps its packing buffers per thread, so concurrent calls are safe.
        if (batch > 1 && (long)m * n * k < NativeGemm.ParallelThreshold)
            NativeParallel.For(batch, (long)m * n * k, entries);
        else
            entries.Run(0, batch);
    }

    /// <summary>Entries [s0, s1) of a batched GEMM, one after the other.</summary>
    private struct GemmEntries<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public bool TransA, TransB;
        public int M, N, K;
        public T Alpha, Beta;
        public T* A, B, C;
        public MatrixLayout La, Lb, Lc;

        public readonly void Run(int s0, int s1)
        {
            for (int s = s0; s < s1; s++)
                NativeGemm.Gemm(TransA, TransB, M, N, K, Alpha, A + s * La.BatchStride, La.RowStride, B + s * Lb.BatchStride, Lb.RowStride,
                    Beta, C + s * Lc.BatchStride, Lc.RowStride);
        }
    }
}
