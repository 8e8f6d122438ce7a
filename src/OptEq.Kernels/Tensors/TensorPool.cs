namespace OptEq.Kernels;

/// <summary>
/// Free lists of storages keyed by element type and length. A solver rents its workspace once before its loop
/// and returns it after; renting the same sizes again reuses the same memory, so steady-state loops allocate nothing.
/// Not thread-safe: one pool per device, used from the thread that drives the device.
/// </summary>
public sealed class TensorPool(Device device) : IDisposable
{
    private readonly Dictionary<(Type, long), Stack<object>> _free = new();

    /// <summary>Bytes currently held in free lists.</summary>
    public long CachedElements { get; private set; }

    /// <summary>A contiguous tensor of the given shape. Contents are unspecified (not zeroed).</summary>
    public Tensor<T> Rent<T>(params int[] shape) where T : unmanaged
    {
        var s = ShapeUtil.Validate(shape);
        long length = ShapeUtil.Count(s);
        Storage<T> storage;
        if (_free.TryGetValue((typeof(T), length), out var stack) && stack.Count > 0)
        {
            storage = (Storage<T>)stack.Pop();
            CachedElements -= length;
        }
        else storage = device.CreateStorage<T>(length);
        return new Tensor<T>(storage, 0, s, ShapeUtil.RowMajorStrides(s), ownsStorage: false);
    }

    /// <summary>Gives a rented tensor's storage back. Views of it must no longer be used.</summary>
    public void Return<T>(Tensor<T> tensor) where T : unmanaged
    {
        if (tensor.Offset != 0 || tensor.Length != tensor.Storage.Length)
            throw new ArgumentException("only whole rented tensors can be returned to the pool, not views");
        var key = (typeof(T), tensor.Storage.Length);
        if (!_free.TryGetValue(key, out var stack)) _free[key] = stack = new Stack<object>();
        stack.Push(tensor.Storage);
        CachedElements += tensor.Storage.Length;
    }

    public void Dispose()
    {
        foreach (var stack in _free.Values)
            foreach (var s in stack) ((IDisposable)s).Dispose();
        _free.Clear();
        CachedElements = 0;
    }
}
