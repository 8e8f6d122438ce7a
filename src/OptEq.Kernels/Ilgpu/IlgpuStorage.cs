using ILGPU;
using ILGPU.Runtime;

namespace OptEq.Kernels.Ilgpu;

/// <summary>Accelerator memory: one dense ILGPU buffer.</summary>
public sealed class IlgpuStorage<T> : Storage<T> where T : unmanaged
{
    internal IlgpuStorage(IlgpuDevice device, long length) : base(device, length)
    {
        Buffer = device.Accelerator.Allocate1D<T>(Math.Max(1, length));
        // Zero-filled like the native backend, so Allocate means the same everywhere.
        Buffer.MemSetToZero();
    }

    public MemoryBuffer1D<T, Stride1D.Dense> Buffer { get; }

    /// <summary>The view of elements [offset, offset + length).</summary>
    public ArrayView<T> View(long offset, long length) => Buffer.View.SubView(offset, length);

    /// <summary>The view from <paramref name="offset"/> to the end of the buffer (for strided access in kernels).</summary>
    public ArrayView<T> ViewFrom(long offset) => Buffer.View.SubView(offset, Buffer.Length - offset);

    internal override void Upload(ReadOnlySpan<T> source, long offset)
    {
        if (source.Length == 0) return;
        View(offset, source.Length).CopyFromCPU(source);
    }

    internal override void Download(Span<T> destination, long offset)
    {
        if (destination.Length == 0) return;
        View(offset, destination.Length).CopyToCPU(destination);
    }

    protected override void Release() => Buffer.Dispose();
}
