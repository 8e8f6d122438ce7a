namespace OptEq.Kernels;

/// <summary>
/// A strided, row-major view of device memory. Slices and reshapes share the storage; nothing is copied
/// unless a method says so. Kernels require a unit stride in the last dimension; the row stride of a
/// matrix view (its leading dimension) may exceed its column count.
/// </summary>
public sealed class Tensor<T> : IDisposable, IPooledTensor where T : unmanaged
{
    private readonly bool _ownsStorage;

    internal Tensor(Storage<T> storage, long offset, int[] shape, long[] strides, bool ownsStorage)
    {
        Storage = storage;
        Offset = offset;
        Shape = shape;
        Strides = strides;
        _ownsStorage = ownsStorage;
    }

    public Storage<T> Storage { get; }
    public Device Device => Storage.Device;
    /// <summary>Element offset of this view's first element in <see cref="Storage"/>.</summary>
    public long Offset { get; }
    public int[] Shape { get; }
    /// <summary>Element strides, one per dimension.</summary>
    public long[] Strides { get; }
    public int Rank => Shape.Length;
    public long Length => ShapeUtil.Count(Shape);

    /// <summary>Size of dimension <paramref name="d"/>; negative indices count from the end.</summary>
    public int Dim(int d) => Shape[d < 0 ? Rank + d : d];

    /// <summary>Rows of the matrix view: all leading dimensions folded together.</summary>
    public int Rows => Rank == 0 ? 1 : (int)(Length / Math.Max(1, Shape[^1]));
    public int Cols => Rank == 0 ? 1 : Shape[^1];
    /// <summary>Leading dimension of the matrix view (element distance between consecutive rows).</summary>
    public long RowStride => Rank < 2 ? Cols : Strides[^2];

    public bool IsContiguous => ShapeUtil.IsContiguous(Shape, Strides);

    /// <summary>True when the view is a (possibly padded) row-major matrix: unit column stride and uniform row stride.</summary>
    public bool IsMatrixLike
    {
        get
        {
            if (Rank == 0) return true;
            if (Shape[^1] > 1 && Strides[^1] != 1) return false;
            // Leading dimensions must fold into one uniform row stride.
            for (int d = Rank - 2; d > 0; d--)
                if (Shape[d - 1] > 1 && Strides[d - 1] != Strides[d] * Shape[d]) return false;
            return true;
        }
    }

    /// <summary>Number of elements spanned in storage, from the first to one past the last.</summary>
    public long Span
    {
        get
        {
            if (Length == 0) return 0;
            long last = 0;
            for (int d = 0; d < Rank; d++) last += (Shape[d] - 1) * Strides[d];
            return last + 1;
        }
    }

    /// <summary>A view of rows [start, start + count) of the first dimension. No copy.</summary>
    public Tensor<T> Slice(int start, int count)
    {
        if (Rank == 0) throw new ShapeException("cannot slice a scalar tensor");
        if (start < 0 || count < 0 || start + count > Shape[0])
            throw new ShapeException($"slice [{start}, {start + count}) is outside dimension 0 of size {Shape[0]} (shape {ShapeUtil.Format(Shape)})");
        var shape = (int[])Shape.Clone();
        shape[0] = count;
        return new Tensor<T>(Storage, Offset + start * Strides[0], shape, (long[])Strides.Clone(), ownsStorage: false);
    }

    /// <summary>A view of columns [start, start + count) of the last dimension. No copy; the result is strided.</summary>
    public Tensor<T> SliceColumns(int start, int count)
    {
        if (Rank == 0) throw new ShapeException("cannot slice a scalar tensor");
        if (start < 0 || count < 0 || start + count > Shape[^1])
            throw new ShapeException($"column slice [{start}, {start + count}) is outside the last dimension of size {Shape[^1]} (shape {ShapeUtil.Format(Shape)})");
        var shape = (int[])Shape.Clone();
        shape[^1] = count;
        return new Tensor<T>(Storage, Offset + start * Strides[^1], shape, (long[])Strides.Clone(), ownsStorage: false);
    }

    /// <summary>The sub-tensor at index <paramref name="i"/> of dimension 0 (rank drops by one). No copy.</summary>
    public Tensor<T> this[int i]
    {
        get
        {
            if (Rank == 0) throw new ShapeException("cannot index a scalar tensor");
            if ((uint)i >= (uint)Shape[0]) throw new ShapeException($"index {i} is outside dimension 0 of size {Shape[0]}");
            return new Tensor<T>(Storage, Offset + i * Strides[0], Shape[1..], Strides[1..], ownsStorage: false);
        }
    }

    /// <summary>
    /// A view with explicit shape, element strides and offset (relative to this view's first element), checked to stay
    /// inside this view's storage. For layouts the other view methods cannot express, e.g. a [batch, m] slice seen as [batch, 1, m].
    /// </summary>
    public Tensor<T> AsStrided(int[] shape, long[] strides, long offset = 0)
    {
        var s = ShapeUtil.Validate(shape);
        if (strides.Length != s.Length) throw new ShapeException($"as-strided: {strides.Length} strides for shape {ShapeUtil.Format(s)}");
        long first = Offset + offset, last = first;
        for (int d = 0; d < s.Length; d++)
        {
            if (strides[d] < 0) throw new ShapeException("as-strided: negative strides are not supported");
            if (s[d] > 0) last += (s[d] - 1) * strides[d];
        }
        if (first < 0 || (ShapeUtil.Count(s) > 0 && last >= Storage.Length))
            throw new ShapeException($"as-strided: shape {ShapeUtil.Format(s)} with strides [{string.Join(", ", strides)}] at offset {first} reaches outside the storage of {Storage.Length} elements");
        return new Tensor<T>(Storage, first, s, (long[])strides.Clone(), ownsStorage: false);
    }

    /// <summary>The same elements with another shape. Requires a contiguous view; -1 infers one dimension.</summary>
    public Tensor<T> Reshape(params int[] shape)
    {
        var resolved = ShapeUtil.Resolve(shape, Length);
        if (!IsContiguous)
            throw new ShapeException($"reshape needs a contiguous tensor; shape {ShapeUtil.Format(Shape)} with strides [{string.Join(", ", Strides)}] is not");
        return new Tensor<T>(Storage, Offset, resolved, ShapeUtil.RowMajorStrides(resolved), ownsStorage: false);
    }

    /// <summary>Copies host data into this view (any strides). Lengths must match.</summary>
    public void CopyFrom(ReadOnlySpan<T> source)
    {
        EnsureAlive();
        if (source.Length != Length)
            throw new ShapeException($"host data has {source.Length} elements; the tensor of shape {ShapeUtil.Format(Shape)} has {Length}");
        if (IsContiguous) { Storage.Upload(source, Offset); return; }
        int cols = Cols;
        for (int row = 0; row < Rows; row++)
            Storage.Upload(source.Slice(row * cols, cols), RowOffset(row));
    }

    /// <summary>Copies this view (any strides) into host memory. Lengths must match.</summary>
    public void CopyTo(Span<T> destination)
    {
        EnsureAlive();
        if (destination.Length != Length)
            throw new ShapeException($"host buffer has {destination.Length} elements; the tensor of shape {ShapeUtil.Format(Shape)} has {Length}");
        Device.Synchronize();
        if (IsContiguous) { Storage.Download(destination, Offset); return; }
        int cols = Cols;
        for (int row = 0; row < Rows; row++)
            Storage.Download(destination.Slice(row * cols, cols), RowOffset(row));
    }

    public T[] ToArray()
    {
        var result = new T[Length];
        CopyTo(result);
        return result;
    }

    /// <summary>Copies another tensor of the same shape on the same device into this one.</summary>
    public void CopyFrom(Tensor<T> source) => Device.Copy(source, this);

    public override string ToString() => $"Tensor<{typeof(T).Name}>{ShapeUtil.Format(Shape)} on {Device.Name}";

    internal void EnsureAlive()
    {
        if (Storage.IsDisposed) throw new ObjectDisposedException($"tensor {ShapeUtil.Format(Shape)}", "its storage was disposed");
    }

    /// <summary>Storage offset of row <paramref name="row"/> of the matrix view, for any strides.</summary>
    internal long RowOffset(int row)
    {
        long offset = Offset;
        for (int d = Rank - 2; d >= 0; d--)
        {
            offset += (row % Shape[d]) * Strides[d];
            row /= Shape[d];
        }
        return offset;
    }

    void IPooledTensor.DisposeStorage() => Storage.Dispose();

    public void Dispose()
    {
        if (_ownsStorage) Storage.Dispose();
    }
}
