namespace OptEq.Kernels;

/// <summary>
/// A place where tensors live and kernels run: the native CPU backend or an ILGPU accelerator.
/// The device holds memory, synchronisation and the buffer pool; kernels come in families (Families/), each a set of
/// extension methods that check their arguments, then call the implementation the backend registered for the family
/// (see <see cref="Register{TFamily}"/>), so every backend rejects bad input the same way, before any kernel runs.
/// Kernels are asynchronous on accelerators: <see cref="Synchronize"/> waits, and host copies synchronise by themselves.
/// </summary>
public abstract partial class Device : IDisposable
{
    protected Device(DeviceInfo info)
    {
        Info = info;
        Pool = new TensorPool(this);
    }

    public DeviceInfo Info { get; }
    public string Id => Info.Id;
    public string Name => Info.Name;
    public DeviceKind Kind => Info.Kind;
    /// <summary>Reusable buffers, so that solver loops allocate nothing after their first iteration.</summary>
    public TensorPool Pool { get; }

    public override string ToString() => $"{Id} ({Name})";

    // ---- memory -------------------------------------------------------------------------------------

    protected internal abstract Storage<T> CreateStorage<T>(long length) where T : unmanaged;

    /// <summary>A new zero-filled contiguous tensor.</summary>
    public Tensor<T> Allocate<T>(params int[] shape) where T : unmanaged
    {
        var s = ShapeUtil.Validate(shape);
        var storage = CreateStorage<T>(ShapeUtil.Count(s));
        return new Tensor<T>(storage, 0, s, ShapeUtil.RowMajorStrides(s), ownsStorage: true);
    }

    /// <summary>A new tensor holding a copy of <paramref name="data"/>.</summary>
    public Tensor<T> FromArray<T>(ReadOnlySpan<T> data, params int[] shape) where T : unmanaged
    {
        var t = Allocate<T>(shape);
        t.CopyFrom(data);
        return t;
    }

    /// <summary>Waits until every queued kernel has finished.</summary>
    public abstract void Synchronize();

    public virtual void Dispose()
    {
        Pool.Dispose();
        GC.SuppressFinalize(this);
    }
}
