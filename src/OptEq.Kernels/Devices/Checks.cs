namespace OptEq.Kernels;

/// <summary>
/// Argument checks shared by the kernel families, so that every family and every backend rejects bad input the same
/// way, before any kernel runs. Messages start with the kernel's name.
/// </summary>
internal static class Checks
{
    public static (int Rows, int Cols) Matrix<T>(string op, string name, Tensor<T> t) where T : unmanaged
    {
        if (!t.IsMatrixLike)
            throw new ShapeException($"{op}: {name} of shape {ShapeUtil.Format(t.Shape)} with strides [{string.Join(", ", t.Strides)}] needs unit stride in its last dimension and a uniform row stride");
        return (t.Rows, t.Cols);
    }

    public static (int Rows, int Cols) SameMatrixShape<T>(string op, Tensor<T> a, Tensor<T> b) where T : unmanaged
    {
        if (!a.Shape.AsSpan().SequenceEqual(b.Shape))
            throw new ShapeException($"{op}: shapes differ, {ShapeUtil.Format(a.Shape)} and {ShapeUtil.Format(b.Shape)}");
        Matrix(op, "first operand", a);
        return Matrix(op, "second operand", b);
    }

    public static void RowVector<T>(string op, string name, Tensor<T> t, int rows) where T : unmanaged
    {
        if (t.Length != rows || !t.IsContiguous)
            throw new ShapeException($"{op}: {name} must be contiguous with {rows} elements (one per row), got {ShapeUtil.Format(t.Shape)}");
    }

    public static bool Overlaps<T>(Tensor<T> a, Tensor<T> b) where T : unmanaged
        => a.Offset < b.Offset + b.Span && b.Offset < a.Offset + a.Span;

    public static void NoOverlap<T>(string op, string name, Tensor<T> input, Tensor<T> output) where T : unmanaged
    {
        if (ReferenceEquals(input.Storage, output.Storage) && Overlaps(input, output))
            throw new ArgumentException($"{op}: the output overlaps {name}, which it must not (the output is written before {name} is fully read)");
    }
}

public abstract partial class Device
{
    /// <summary>Every tensor lives on this device and is not disposed.</summary>
    internal void CheckSameDevice<T>(string op, params ReadOnlySpan<Tensor<T>> tensors) where T : unmanaged
    {
        foreach (var t in tensors)
        {
            if (t.Device != this) throw new ArgumentException($"{op}: a tensor lives on {t.Device.Id}, not on {Id}");
            t.EnsureAlive();
        }
    }
}
