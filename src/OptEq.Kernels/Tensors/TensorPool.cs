namespace OptEq.Kernels;

/// <summary>
/// Free lists of tensors keyed by element type and length. A solver rents its workspace once before its loop
/// and returns it after; renting the same sizes again reuses the same memory, and renting the same shape reuses the
/// same tensor object, so steady-state code (a solve, a training step) allocates nothing, not even managed objects.
/// Not thread-safe: one pool per device, used from the thread that drives the device.
/// </summary>
public sealed class TensorPool(Device device) : IDisposable
{
    private readonly Dictionary<(Type, long), Stack<object>> _free = new(); // whole, contiguous Tensor<T> objects
    private readonly Dictionary<Type, Stack<object>> _objects = new();      // reusable bookkeeping objects (solver trackers, results)
    // Other shapes a free storage was rented as before (e.g. a [batch, d] buffer also rented flat): kept so that rentals
    // alternating between shapes of the same length hand back the same objects instead of new views each time.
    private readonly Dictionary<object, List<object>> _shapes = new(ReferenceEqualityComparer.Instance);

    /// <summary>Bytes currently held in free lists.</summary>
    public long CachedElements { get; private set; }

    /// <summary>A contiguous tensor of the given shape. Contents are unspecified (not zeroed).</summary>
    public Tensor<T> Rent<T>(params ReadOnlySpan<int> shape) where T : unmanaged
    {
        foreach (var d in shape)
            if (d < 0) throw new ShapeException($"shape {ShapeUtil.Format(shape)} has a negative dimension");
        long length = ShapeUtil.Count(shape);
        if (_free.TryGetValue((typeof(T), length), out var stack) && stack.Count > 0)
        {
            var cached = (Tensor<T>)stack.Pop();
            CachedElements -= length;
            if (cached.Shape.AsSpan().SequenceEqual(shape)) return cached; // the common case: no allocation at all
            return Reshaped(cached, shape);
        }
        var storage = device.CreateStorage<T>(length);
        return new Tensor<T>(storage, 0, shape.ToArray(), ShapeUtil.RowMajorStrides(shape), ownsStorage: false);
    }

    /// <summary>The storage of <paramref name="cached"/> as a tensor of <paramref name="shape"/>: made once per (storage, shape).</summary>
    private Tensor<T> Reshaped<T>(Tensor<T> cached, ReadOnlySpan<int> shape) where T : unmanaged
    {
        if (!_shapes.TryGetValue(cached.Storage, out var known)) _shapes[cached.Storage] = known = [cached];
        foreach (var candidate in known)
            if (((Tensor<T>)candidate).Shape.AsSpan().SequenceEqual(shape)) return (Tensor<T>)candidate;
        var view = new Tensor<T>(cached.Storage, 0, shape.ToArray(), ShapeUtil.RowMajorStrides(shape), ownsStorage: false);
        known.Add(view);
        return view;
    }

    /// <summary>Gives a rented tensor's storage back. Views of it must no longer be used.</summary>
    public void Return<T>(Tensor<T> tensor) where T : unmanaged
    {
        if (tensor.Offset != 0 || tensor.Length != tensor.Storage.Length)
            throw new ArgumentException("only whole rented tensors can be returned to the pool, not views");
        var key = (typeof(T), tensor.Storage.Length);
        if (!_free.TryGetValue(key, out var stack)) _free[key] = stack = new Stack<object>();
        // Kept as a tensor object, so renting this shape again hands back the same object; a strided whole view is rewrapped.
        stack.Push(tensor.IsContiguous ? tensor : new Tensor<T>(tensor.Storage, 0, [(int)tensor.Storage.Length], [1], ownsStorage: false));
        CachedElements += tensor.Storage.Length;
    }

    /// <summary>
    /// An object of type <typeparamref name="TObject"/> given back earlier with <see cref="ReturnObject{TObject}"/>, or null:
    /// solvers keep their host-side bookkeeping (trackers, results and their arrays) here between solves.
    /// </summary>
    public TObject? RentObject<TObject>() where TObject : class
        => _objects.TryGetValue(typeof(TObject), out var stack) && stack.Count > 0 ? (TObject)stack.Pop() : null;

    public void ReturnObject<TObject>(TObject item) where TObject : class
    {
        if (!_objects.TryGetValue(typeof(TObject), out var stack)) _objects[typeof(TObject)] = stack = new Stack<object>();
        stack.Push(item);
    }

    public void Dispose()
    {
        _objects.Clear();
        _shapes.Clear();
        foreach (var stack in _free.Values)
            foreach (var t in stack) ((IPooledTensor)t).DisposeStorage();
        _free.Clear();
        CachedElements = 0;
    }
}

/// <summary>What the pool needs of a cached tensor whatever its element type: freeing its memory when the pool is disposed.</summary>
internal interface IPooledTensor
{
    void DisposeStorage();
}
