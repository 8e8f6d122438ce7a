using System.Numerics;

namespace OptEq.Kernels;

/// <summary>Row reductions: one value per row of a matrix (dot products, norms, distances, max-abs, sums).</summary>
public static class RowReduceExtensions
{
    /// <summary>result[i] ← reduction over row i of x (and y for Dot and SquaredDistance). result has one element per row.</summary>
    public static void RowReduce<T>(this Device device, RowReduction reduction, Tensor<T> x, Tensor<T>? y, Tensor<T> result) where T : unmanaged, IFloatingPointIeee754<T>
    {
        bool needsY = reduction is RowReduction.Dot or RowReduction.SquaredDistance;
        if (needsY && y is null) throw new ArgumentException($"row-reduce {reduction}: needs a second tensor y");
        device.CheckSameDevice("row-reduce", x, y ?? x, result);
        var (rows, cols) = Checks.Matrix("row-reduce", "x", x);
        if (needsY) Checks.SameMatrixShape("row-reduce", x, y!);
        if (result.Length != rows || !result.IsContiguous)
            throw new ShapeException($"row-reduce: result must be contiguous with {rows} elements (one per row of x {ShapeUtil.Format(x.Shape)}), got {ShapeUtil.Format(result.Shape)}");
        // Without y, x stands in for it (the reduction does not read it).
        device.Family<IRowReduceBackend>().RowReduce(reduction, rows, cols, MatrixView<T>.Of(x), MatrixView<T>.Of(y ?? x), MatrixView<T>.Vector(result));
    }
}

/// <summary>What a backend implements for the row-reduction family.</summary>
internal interface IRowReduceBackend
{
    void RowReduce<T>(RowReduction reduction, int rows, int cols, MatrixView<T> x, MatrixView<T> y, MatrixView<T> result) where T : unmanaged, IFloatingPointIeee754<T>;
}
