using System.Numerics;

namespace OptEq.Kernels.Native;

/// <summary>The row-reduction family on the CPU: one accumulator per row at the vector width in use (see VectorDriver.Reduce), rows split across the worker team.</summary>
internal sealed unsafe class RowReduceNative : IRowReduceBackend
{
    public void RowReduce<T>(RowReduction reduction, int rows, int cols, MatrixView<T> x, MatrixView<T> y, MatrixView<T> result) where T : unmanaged, IFloatingPointIeee754<T> =>
        NativeParallel.For(rows, cols, new ReduceRows<T> { Reduction = reduction, X = x.Rows(), Y = y.Rows(), Result = result.Ptr(), Cols = cols });

    private struct ReduceRows<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public RowReduction Reduction;
        public RowPointer<T> X, Y;
        public T* Result;
        public int Cols;

        public readonly void Run(int r0, int r1)
        {
            for (int r = r0; r < r1; r++) Result[r] = ReduceRow(Reduction, X[r], Y[r], Cols);
        }
    }

    private static T ReduceRow<T>(RowReduction reduction, T* x, T* y, int n) where T : unmanaged, IFloatingPointIeee754<T> => reduction switch
    {
        RowReduction.Dot => VectorDriver.Reduce(new DotOp<T>(), x, y, n),
        RowReduction.SquaredNorm => VectorDriver.Reduce(new SquaredNormOp<T>(), x, x, n),
        RowReduction.SquaredDistance => VectorDriver.Reduce(new SquaredDistanceOp<T>(), x, y, n),
        RowReduction.MaxAbs => VectorDriver.Reduce(new MaxAbsOp<T>(), x, x, n),
        RowReduction.Sum => VectorDriver.Reduce(new SumOp<T>(), x, x, n),
        _ => throw new ArgumentOutOfRangeException(nameof(reduction), reduction, "unknown row reduction"),
    };
}
