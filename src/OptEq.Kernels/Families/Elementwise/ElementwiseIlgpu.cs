using System.Numerics;
using ILGPU;
using ILGPU.Runtime;
using OptEq.Kernels.Ilgpu.Kernels;
using static OptEq.Kernels.Ilgpu.IlgpuDevice;

namespace OptEq.Kernels.Ilgpu;

/// <summary>The elementwise family on an ILGPU accelerator: grid-stride kernels over a 2-D grid (<see cref="ElementwiseKernels"/>).</summary>
internal sealed class ElementwiseIlgpu(IlgpuDevice device) : IElementwiseBackend
{
    public void Copy<T>(int rows, int cols, MatrixView<T> src, MatrixView<T> dst) where T : unmanaged
    {
        if (rows == 0 || cols == 0) return;
        var kernel = device.Kernels.Get("copy", typeof(T), null, acc =>
            acc.LoadStreamKernel<ArrayView<T>, long, ArrayView<T>, long, int, int>(ElementwiseKernels.Copy));
        kernel(device.ElementwiseLaunch(rows, cols), View(src), src.RowStride, View(dst), dst.RowStride, rows, cols);
    }

    public void Fill<T>(int rows, int cols, MatrixView<T> x, T value) where T : unmanaged
    {
        if (rows == 0 || cols == 0) return;
        var kernel = device.Kernels.Get("fill", typeof(T), null, acc =>
            acc.LoadStreamKernel<ArrayView<T>, long, int, int, T>(ElementwiseKernels.Fill));
        kernel(device.ElementwiseLaunch(rows, cols), View(x), x.RowStride, rows, cols, value);
    }

    public void AddBias<T>(int rows, int cols, MatrixView<T> x, MatrixView<T> bias, MatrixView<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (rows == 0 || cols == 0) return;
        var kernel = device.Kernels.Get("add-bias", typeof(T), null, acc =>
            acc.LoadStreamKernel<ArrayView<T>, long, ArrayView<T>, ArrayView<T>, long, int, int>(ElementwiseKernels.AddBias));
        kernel(device.ElementwiseLaunch(rows, cols), View(x), x.RowStride, View(bias), View(y), y.RowStride, rows, cols);
    }

    public void Axpby<T>(int rows, int cols, T alpha, MatrixView<T> x, T beta, MatrixView<T> y, MatrixView<T> result) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (rows == 0 || cols == 0) return;
        var kernel = device.Kernels.Get("axpby", typeof(T), null, acc =>
            acc.LoadStreamKernel<ArrayView<T>, long, ArrayView<T>, long, ArrayView<T>, long, int, int, T, T, int>(ElementwiseKernels.Axpby));
        kernel(device.ElementwiseLaunch(rows, cols), View(x), x.RowStride, View(y), y.RowStride,
            View(result), result.RowStride, rows, cols, alpha, beta, beta == T.Zero ? 0 : 1);
    }

    public void Map<T, TOp>(TOp op, int rows, int cols, MatrixView<T> result, Quad<T> inputs) where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IScalarMap<T>
    {
        if (rows == 0 || cols == 0) return;
        var kernel = device.Kernels.Get("map", typeof(T), typeof(TOp), acc =>
            acc.LoadStreamKernel<TOp, ArrayView<T>, long, ArrayView<T>, long, ArrayView<T>, long, ArrayView<T>, long, ArrayView<T>, long, int, int>(ElementwiseKernels.Map<T, TOp>));
        var (a, b, c, d) = inputs;
        kernel(device.ElementwiseLaunch(rows, cols), op, View(result), result.RowStride, View(a), a.RowStride, View(b), b.RowStride,
            View(c), c.RowStride, View(d), d.RowStride, rows, cols);
    }

    public void UpdateInPlace<T, TOp>(TOp op, int rows, int cols, Quad<T> operands) where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IScalarUpdate<T>
    {
        if (rows == 0 || cols == 0) return;
        var kernel = device.Kernels.Get("update-in-place", typeof(T), typeof(TOp), acc =>
            acc.LoadStreamKernel<TOp, ArrayView<T>, long, ArrayView<T>, long, ArrayView<T>, long, ArrayView<T>, long, int, int>(ElementwiseKernels.UpdateInPlace<T, TOp>));
        var (a, b, c, d) = operands;
        kernel(device.ElementwiseLaunch(rows, cols), op, View(a), a.RowStride, View(b), b.RowStride, View(c), c.RowStride, View(d), d.RowStride, rows, cols);
    }

    public void RowAxpby<T>(int rows, int cols, MatrixView<T> alpha, MatrixView<T> x, MatrixView<T> beta, MatrixView<T> y, MatrixView<T> result) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (rows == 0 || cols == 0) return;
        var kernel = device.Kernels.Get("row-axpby", typeof(T), null, acc =>
            acc.LoadStreamKernel<ArrayView<T>, ArrayView<T>, long, ArrayView<T>, ArrayView<T>, long, ArrayView<T>, long, int, int>(ElementwiseKernels.RowAxpby));
        kernel(device.ElementwiseLaunch(rows, cols), View(alpha), View(x), x.RowStride, View(beta), View(y), y.RowStride, View(result), result.RowStride, rows, cols);
    }

    public void SelectRows<T, TCond>(int rows, int cols, MatrixView<TCond> condition, MatrixView<T> a, MatrixView<T> b, MatrixView<T> result)
        where T : unmanaged, IFloatingPointIeee754<T> where TCond : unmanaged, INumberBase<TCond>
    {
        if (rows == 0 || cols == 0) return;
        var kernel = device.Kernels.Get("select-rows", typeof(T), typeof(TCond), acc =>
            acc.LoadStreamKernel<ArrayView<TCond>, ArrayView<T>, long, ArrayView<T>, long, ArrayView<T>, long, int, int>(ElementwiseKernels.SelectRows<T, TCond>));
        kernel(device.ElementwiseLaunch(rows, cols), View(condition), View(a), a.RowStride, View(b), b.RowStride, View(result), result.RowStride, rows, cols);
    }
}
