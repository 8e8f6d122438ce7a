using System.Numerics;
using ILGPU;

namespace OptEq.Kernels.Ilgpu.Kernels;

/// <summary>A row reduction: each element pair is mapped, then combined (identity zero for all four).</summary>
public interface IRowReduction<T> : ICombine<T> where T : unmanaged
{
    /// <summary>Whether Map reads y (SquaredNorm and MaxAbs do not, so y is not loaded).</summary>
    bool UsesY { get; }
    T Map(T x, T y);
}

public struct DotRow<T> : IRowReduction<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public bool UsesY => true;
    public T Map(T x, T y) => x * y;
    public T Combine(T a, T b) => a + b;
}

public struct SquaredNormRow<T> : IRowReduction<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public bool UsesY => false;
    public T Map(T x, T y) => x * x;
    public T Combine(T a, T b) => a + b;
}

public struct SquaredDistanceRow<T> : IRowReduction<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public bool UsesY => true;
    public T Map(T x, T y) => (x - y) * (x - y);
    public T Combine(T a, T b) => a + b;
}

public struct MaxAbsRow<T> : IRowReduction<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public bool UsesY => false;
    public T Map(T x, T y) => T.Abs(x);
    public T Combine(T a, T b) => default(MaxCombine<T>).Combine(a, b); // NaN propagates
}

public struct SumRow<T> : IRowReduction<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public bool UsesY => false;
    public T Map(T x, T y) => x;
    public T Combine(T a, T b) => a + b;
}

/// <summary>
/// result[r] ← reduction over row r (reference: <see cref="Reference.ReferenceKernels.RowReduce"/>). One group per row
/// (rows taken with a grid stride): each thread folds a strided slice of the row, then the group combines the partials
/// in shared memory (dynamic, one element per thread).
/// </summary>
public static class RowReduceKernel
{
    public static void Run<T, TOp>(ArrayView<T> x, long ldx, ArrayView<T> y, long ldy, ArrayView<T> result, int rows, int cols)
        where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IRowReduction<T>
    {
        var op = default(TOp);
        var scratch = SharedMemory.GetDynamic<T>();
        for (int r = Grid.IdxX; r < rows; r += Grid.DimX)
        {
            T acc = T.Zero;
            for (int c = Group.IdxX; c < cols; c += Group.DimX)
                acc = op.Combine(acc, op.Map(x[r * ldx + c], op.UsesY ? y[r * ldy + c] : T.Zero));
            acc = GroupReduce.Reduce<T, TOp>(scratch, acc);
            if (Group.IsFirstThread) result[r] = acc;
        }
    }
}
