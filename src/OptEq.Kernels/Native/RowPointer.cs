namespace OptEq.Kernels.Native;

/// <summary>The rows of a native matrix as a base pointer and a row stride: what a kernel body carries instead of a Storage object.</summary>
internal readonly unsafe struct RowPointer<T> where T : unmanaged
{
    private readonly T* _base;
    private readonly long _stride;

    public RowPointer(T* @base, long stride) { _base = @base; _stride = stride; }

    public T* this[int row] => _base + row * _stride;

    /// <summary>True where there is no matrix (an optional output left out).</summary>
    public bool IsNull => _base == null;
}
