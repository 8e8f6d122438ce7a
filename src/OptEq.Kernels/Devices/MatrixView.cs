namespace OptEq.Kernels;

/// <summary>
/// One operand as a backend receives it: the storage and where the matrix lies in it (offset, row stride, batch stride).
/// A vector operand uses only the offset. <c>default</c> stands for an optional operand that was left out.
/// </summary>
public readonly struct MatrixView<T>(Storage<T> storage, MatrixLayout layout) where T : unmanaged
{
    public Storage<T> Storage { get; } = storage;
    public MatrixLayout Layout { get; } = layout;
    public long Offset => Layout.Offset;
    public long RowStride => Layout.RowStride;
    public long BatchStride => Layout.BatchStride;

    /// <summary>True for an optional operand that was left out.</summary>
    public bool IsAbsent => Storage is null;

    /// <summary>A matrix-like tensor's rows (offset and row stride; batch stride 0).</summary>
    public static MatrixView<T> Of(Tensor<T> t) => new(t.Storage, new MatrixLayout(t.Offset, t.RowStride, 0));

    /// <summary>The tensor's rows, or the absent operand for null.</summary>
    public static MatrixView<T> OfOptional(Tensor<T>? t) => t is null ? default : Of(t);

    /// <summary>A contiguous vector: only its offset matters.</summary>
    public static MatrixView<T> Vector(Tensor<T> t) => new(t.Storage, new MatrixLayout(t.Offset, 0, 0));

    /// <summary>The same storage with another layout (a view into part of this operand).</summary>
    public MatrixView<T> With(MatrixLayout layout) => new(Storage, layout);
}
