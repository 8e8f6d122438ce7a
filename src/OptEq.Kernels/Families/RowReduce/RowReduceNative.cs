using System.Numerics;
using System.Runtime.Intrinsics;

namespace OptEq.Kernels.Native;

/// <summary>The row-reduction family on the CPU: Vector512 accumulation per row, rows split across the worker team.</summary>
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

    private static T ReduceRow<T>(RowReduction reduction, T* x, T* y, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var acc = Vector512<T>.Zero;
        int j = 0, w = Vector512<T>.Count;
        T tail = T.Zero;
        switch (reduction)
        {
            case RowReduction.Dot:
                for (; j <= n - w; j += w) acc += Vector512.Load(x + j) * Vector512.Load(y + j);
                for (; j < n; j++) tail += x[j] * y[j];
                return Vector512.Sum(acc) + tail;
            case RowReduction.SquaredNorm:
                for (; j <= n - w; j += w) { var v = Vector512.Load(x + j); acc += v * v; }
                for (; j < n; j++) tail += x[j] * x[j];
                return Vector512.Sum(acc) + tail;
            case RowReduction.SquaredDistance:
                for (; j <= n - w; j += w) { var d = Vector512.Load(x + j) - Vector512.Load(y + j); acc += d * d; }
                for (; j < n; j++) { T d = x[j] - y[j]; tail += d * d; }
                return Vector512.Sum(acc) + tail;
            case RowReduction.MaxAbs:
                // NaN must propagate (a residual that is NaN is not small): Max of vectors propagates it.
                for (; j <= n - w; j += w) acc = Vector512.Max(acc, Vector512.Abs(Vector512.Load(x + j)));
                T m = T.Zero;
                for (int l = 0; l < w; l++) m = T.Max(m, acc[l]);
                for (; j < n; j++) m = T.Max(m, T.Abs(x[j]));
                return m;
            case RowReduction.Sum:
                for (; j <= n - w; j += w) acc += Vector512.Load(x + j);
                for (; j < n; j++) tail += x[j];
                return Vector512.Sum(acc) + tail;
            default:
                throw new ArgumentOutOfRangeException(nameof(reduction), reduction, "unknown row reduction");
        }
    }
}
