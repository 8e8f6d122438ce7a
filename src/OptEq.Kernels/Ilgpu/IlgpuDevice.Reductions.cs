using System.Numerics;
using ILGPU;
using ILGPU.Runtime;
using OptEq.Kernels.Ilgpu.Kernels;

namespace OptEq.Kernels.Ilgpu;

public sealed partial class IlgpuDevice
{
    protected override void RowReduceCore<T>(RowReduction reduction, int rows, int cols, Storage<T> x, MatrixLayout lx, Storage<T> y, MatrixLayout ly, Storage<T> result, long resultOffset)
    {
        if (rows == 0) return;
        switch (reduction)
        {
            case RowReduction.Dot: RowReduce<T, DotRow<T>>(rows, cols, x, lx, y, ly, result, resultOffset); break;
            case RowReduction.SquaredNorm: RowReduce<T, SquaredNormRow<T>>(rows, cols, x, lx, y, ly, result, resultOffset); break;
            case RowReduction.SquaredDistance: RowReduce<T, SquaredDistanceRow<T>>(rows, cols, x, lx, y, ly, result, resultOffset); break;
            case RowReduction.MaxAbs: RowReduce<T, MaxAbsRow<T>>(rows, cols, x, lx, y, ly, result, resultOffset); break;
            case RowReduction.Sum: RowReduce<T, SumRow<T>>(rows, cols, x, lx, y, ly, result, resultOffset); break;
            default: throw new ArgumentOutOfRangeException(nameof(reduction), reduction, "unknown row reduction");
        }
    }

    private void RowReduce<T, TOp>(int rows, int cols, Storage<T> x, MatrixLayout lx, Storage<T> y, MatrixLayout ly, Storage<T> result, long resultOffset)
        where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IRowReduction<T>
    {
        var kernel = Kernels.Get("row-reduce", typeof(T), typeof(TOp), acc =>
            acc.LoadStreamKernel<ArrayView<T>, long, ArrayView<T>, long, ArrayView<T>, int, int>(RowReduceKernel.Run<T, TOp>));
        kernel(RowLaunch<T>(rows, cols), View(x, lx.Offset), lx.RowStride, View(y, ly.Offset), ly.RowStride, View(result, resultOffset), rows, cols);
    }
}
