namespace OptEq.Kernels;

/// <summary>A flat allocation of <typeparamref name="T"/> owned by one device. Tensors are views into it.</summary>
public abstract class Storage<T> : IDisposable where T : unmanaged
{
    protected Storage(Device device, long length)
    {
        Device = device;
        Length = length;
    }

    public Device Device { get; }
    public long Length { get; }
    public bool IsDisposed { get; private set; }

    /// <summary>Copies <paramref name="source"/> into elements [offset, offset + source.Length).</summary>
    internal abstract void Upload(ReadOnlySpan<T> source, long offset);

    /// <summary>Copies elements [offset, offset + destination.Length) into <paramref name="destination"/>.</summary>
    internal abstract void Download(Span<T> destination, long offset);

    public void Dispose()
    {
        if (IsDisposed) return;
        IsDisposed = true;
        Release();
        GC.SuppressFinalize(this);
    }

    protected abstract void Release();
}
