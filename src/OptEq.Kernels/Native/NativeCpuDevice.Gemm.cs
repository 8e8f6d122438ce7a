namespace OptEq.Kernels.Native;

public sealed unsafe partial class NativeCpuDevice
{
    protected override void GemmCore<T>(MatrixOp opA, MatrixOp opB, int m, int n, int k, int batch, T alpha,
        Storage<T> a, MatrixLayout la, Storage<T> b, MatrixLayout lb, T beta, Storage<T> c, MatrixLayout lc)
    {
        T* pa = Ptr(a, la.Offset), pb = Ptr(b, lb.Offset), pc = Ptr(c, lc.Offset);
        for (int s = 0; s < batch; s++)
            NativeGemm.Gemm(opA == MatrixOp.Transpose, opB == MatrixOp.Transpose, m, n, k, alpha,
                pa + s * la.BatchStride, la.RowStride, pb + s * lb.BatchStride, lb.RowStride, beta, pc + s * lc.BatchStride, lc.RowStride);
    }
}
