using System.Numerics;
using ILGPU;
using ILGPU.Runtime;
using OptEq.Kernels.Ilgpu.Kernels;

namespace OptEq.Kernels.Ilgpu;

/// <summary>The row-reduction family on an ILGPU accelerator: one group per row (<see cref="RowReduceKernel"/>), one kernel per reduction struct.</summary>
internal sealed class RowReduceIlgpu(IlgpuDevice device) : IRowReduceBackend
{
    public void RowReduce<T>(RowReduction reduction, int rows, int cols, MatrixView<T> x, MatrixView<T> y, MatrixView<T> result) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (rows == 0) return;
        switch (reduction)
        {
            case RowReduction.Dot: RowReduce<T, DotRow<T>>(rows, cols, x, y, result); break;
            case RowReduction.SquaredNorm: RowReduce<T, SquaredNormRow<T>>(rows, cols, x, y, result); break;
            case RowReduction.SquaredDistance: RowReduce<T, SquaredDistanceRow<T>>(rows, cols, x, y, result); break;
            case RowReduction.MaxAbs: RowReduce<T, MaxAbsRow<T>>(rows, cols, x, y, result); break;
            case RowReduction.Sum: RowReduce<T, SumRow<T>>(rows, cols, x, y, result); break;
            default: throw new ArgumentOutOfRangeException(nameof(reduction), reduction, "unknown row reduction");
        }
    }

    private void RowReduce<T, TOp>(int rows, int cols, MatrixView<T> x, MatrixView<T> y, MatrixView<T> result)
        where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IRowReduction<T>
    {
        var kernel = device.Kernels.Get("row-reduce", typeof(T), typeof(TOp), acc =>
            acc.LoadStreamKernel<ArrayView<T>, long, ArrayView<T>, long, ArrayView<T>, int, int>(RowReduceKernel.Run<T, TOp>));
        kernel(device.RowLaunch<T>(rows, cols), IlgpuDevice.View(x), x.RowStride, IlgpuDevice.View(y), y.RowStride, IlgpuDevice.View(result), rows, cols);
    }
}
