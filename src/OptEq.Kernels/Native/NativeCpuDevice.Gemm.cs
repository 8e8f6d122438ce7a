namespace OptEq.Kernels.Native;

public sealed unsafe partial class NativeCpuDevice
{
    protected override void GemmCore<T>(MatrixOp opA, MatrixOp opB, int m, int n, int k, int batch, T alpha,
        Storage<T> a, MatrixLayout la, Storage<T> b, MatrixLayout lb, T beta, Storage<T> c, MatrixLayout lc)
    {
        var pa = (nint)Ptr(a, la.Offset); var pb = (nint)Ptr(b, lb.Offset); var pc = (nint)Ptr(c, lc.Offset);
        bool transA = opA == MatrixOp.Transpose, transB = opB == MatrixOp.Transpose;
        // Entries too small for two threads each (Anderson's per-sample Gram and mixing products) are spread across
        // the cores instead: the GEMM keeps its packing buffers per thread, so concurrent calls are safe.
        if (batch > 1 && (long)m * n * k < NativeGemm.ParallelThreshold)
        {
            NativeParallel.ForRanges(batch, (long)m * n * k, (s0, s1) =>
            {
                for (int s = s0; s < s1; s++) Entry(s);
            });
            return;
        }
        for (int s = 0; s < batch; s++) Entry(s);

        void Entry(int s) => NativeGemm.Gemm(transA, transB, m, n, k, alpha,
            (T*)pa + s * la.BatchStride, la.RowStride, (T*)pb + s * lb.BatchStride, lb.RowStride, beta, (T*)pc + s * lc.BatchStride, lc.RowStride);
    }
}
