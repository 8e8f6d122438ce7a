using System.Runtime.CompilerServices;

namespace OptEq.Kernels.Native;

/// <summary>Host memory for the native backend: a pinned, 64-byte aligned managed array, so kernels use raw pointers.</summary>
public sealed unsafe class NativeStorage<T> : Storage<T> where T : unmanaged
{
    private readonly T[] _array;
    private readonly int _start; // elements skipped so that element 0 is 64-byte aligned

    internal NativeStorage(Device device, long length) : base(device, length)
    {
        if (length > Array.MaxLength - 64) throw new ShapeException($"a native tensor of {length} elements is larger than one .NET array allows");
        _array = GC.AllocateArray<T>((int)length + 64 / sizeof(T), pinned: true);
        var address = (nint)Unsafe.AsPointer(ref _array[0]);
        _start = (int)(((64 - address % 64) % 64) / sizeof(T));
    }

    /// <summary>Pointer to element 0. Valid for the storage's lifetime (the array is pinned).</summary>
    public T* Pointer => (T*)Unsafe.AsPointer(ref _array[_start]);

    public Span<T> AsSpan(long offset, long length) => _array.AsSpan(_start + (int)offset, (int)length);

    internal override void Upload(ReadOnlySpan<T> source, long offset) => source.CopyTo(AsSpan(offset, source.Length));
    internal override void Download(Span<T> destination, long offset) => AsSpan(offset, destination.Length).CopyTo(destination);
    protected override void Release() { }
}
