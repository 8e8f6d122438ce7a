using System.Runtime.Intrinsics;

namespace OptEq.Kernels.Native;

/// <summary>
/// The CPU path: vectorised C# over pinned host memory, on all cores. Kernels run synchronously,
/// so <see cref="Synchronize"/> has nothing to wait for.
/// </summary>
public sealed unsafe partial class NativeCpuDevice : Device
{
    public const string DeviceId = "cpu";

    public NativeCpuDevice() : base(Describe()) { }

    public static DeviceInfo Describe()
    {
        string simd = Vector512.IsHardwareAccelerated ? "AVX-512 (Vector512)" : Vector256.IsHardwareAccelerated ? "AVX2 (Vector256)" : "Vector128";
        return new DeviceInfo(DeviceId, DeviceKind.NativeCpu, "native CPU (vectorised C#)",
        [
            new("cores", Environment.ProcessorCount.ToString()),
            new("simd", simd),
            new("fma", System.Runtime.Intrinsics.X86.Fma.IsSupported ? "yes" : "no"),
            new("memory", $"{GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1 << 20)} MiB"),
            new("float64", "yes"),
        ]);
    }

    protected internal override Storage<T> CreateStorage<T>(long length) => new NativeStorage<T>(this, length);

    public override void Synchronize() { }

    private static T* Ptr<T>(Storage<T> s, long offset) where T : unmanaged => ((NativeStorage<T>)s).Pointer + offset;
    private static T* Row<T>(Storage<T> s, MatrixLayout l, int row) where T : unmanaged => ((NativeStorage<T>)s).Pointer + l.Offset + row * l.RowStride;
    /// <summary>The rows of a matrix for a kernel body; a null storage (an optional output) gives a null pointer.</summary>
    private static RowPointer<T> Rows<T>(Storage<T>? s, MatrixLayout l) where T : unmanaged =>
        s is null ? default : new RowPointer<T>(((NativeStorage<T>)s).Pointer + l.Offset, l.RowStride);
}
