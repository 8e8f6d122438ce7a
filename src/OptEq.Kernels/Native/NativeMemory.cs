namespace OptEq.Kernels.Native;

/// <summary>Raw pointers into native storage for kernel bodies.</summary>
internal static unsafe class NativeMemory
{
    /// <summary>Pointer to the operand's first element.</summary>
    public static T* Ptr<T>(this MatrixView<T> v) where T : unmanaged => ((NativeStorage<T>)v.Storage).Pointer + v.Offset;

    /// <summary>The rows of a matrix for a kernel body; an absent operand (an optional output) gives a null pointer.</summary>
    public static RowPointer<T> Rows<T>(this MatrixView<T> v) where T : unmanaged =>
        v.IsAbsent ? default : new RowPointer<T>(((NativeStorage<T>)v.Storage).Pointer + v.Offset, v.RowStride);
}
