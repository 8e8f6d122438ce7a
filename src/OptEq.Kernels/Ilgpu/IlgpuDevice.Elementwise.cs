using ILGPU;
using ILGPU.Runtime;
using OptEq.Kernels.Ilgpu.Kernels;

namespace OptEq.Kernels.Ilgpu;

public sealed partial class IlgpuDevice
{
    protected override void CopyCore<T>(int rows, int cols, Storage<T> src, MatrixLayout ls, Storage<T> dst, MatrixLayout ld)
    {
        if (rows == 0 || cols == 0) return;
        var kernel = Kernels.Get("copy", typeof(T), null, acc =>
            acc.LoadStreamKernel<ArrayView<T>, long, ArrayView<T>, long, int, int>(ElementwiseKernels.Copy));
        kernel(ElementwiseLaunch(rows, cols), View(src, ls.Offset), ls.RowStride, View(dst, ld.Offset), ld.RowStride, rows, cols);
    }

    protected override void FillCore<T>(int rows, int cols, Storage<T> x, MatrixLayout lx, T value)
    {
        if (rows == 0 || cols == 0) return;
        var kernel = Kernels.Get("fill", typeof(T), null, acc =>
            acc.LoadStreamKernel<ArrayView<T>, long, int, int, T>(ElementwiseKernels.Fill));
        kernel(ElementwiseLaunch(rows, cols), View(x, lx.Offset), lx.RowStride, rows, cols, value);
    }

    protected override void AddBiasCore<T>(int rows, int cols, Storage<T> x, MatrixLayout lx, Storage<T> bias, long biasOffset, Storage<T> y, MatrixLayout ly)
    {
        if (rows == 0 || cols == 0) return;
        var kernel = Kernels.Get("add-bias", typeof(T), null, acc =>
            acc.LoadStreamKernel<ArrayView<T>, long, ArrayView<T>, ArrayView<T>, long, int, int>(ElementwiseKernels.AddBias));
        kernel(ElementwiseLaunch(rows, cols), View(x, lx.Offset), lx.RowStride, View(bias, biasOffset), View(y, ly.Offset), ly.RowStride, rows, cols);
    }

    protected override void AxpbyCore<T>(int rows, int cols, T alpha, Storage<T> x, MatrixLayout lx, T beta, Storage<T> y, MatrixLayout ly, Storage<T> result, MatrixLayout lr)
    {
        if (rows == 0 || cols == 0) return;
        var kernel = Kernels.Get("axpby", typeof(T), null, acc =>
            acc.LoadStreamKernel<ArrayView<T>, long, ArrayView<T>, long, ArrayView<T>, long, int, int, T, T, int>(ElementwiseKernels.Axpby));
        kernel(ElementwiseLaunch(rows, cols), View(x, lx.Offset), lx.RowStride, View(y, ly.Offset), ly.RowStride,
            View(result, lr.Offset), lr.RowStride, rows, cols, alpha, beta, beta == T.Zero ? 0 : 1);
    }
}
