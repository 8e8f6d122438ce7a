using System.Runtime.Intrinsics;

namespace OptEq.Kernels.Native;

/// <summary>
/// The CPU path: vectorised C# over pinned host memory, on all cores. Kernels run synchronously,
/// so <see cref="Synchronize"/> has nothing to wait for.
/// </summary>
public sealed class NativeCpuDevice : Device
{
    public const string DeviceId = "cpu";

    public NativeCpuDevice() : base(Describe())
    {
        // One line per kernel family (Families/<Family>/<Family>Native.cs).
        Register<IElementwiseBackend>(new ElementwiseNative());
        Register<IGemmBackend>(new GemmNative(this));
        Register<IProxBackend>(new ProxNative());
        Register<IRowReduceBackend>(new RowReduceNative());
        Register<ILossBackend>(new LossNative());
        Register<IAndersonBackend>(new AndersonNative());
        Register<IBatchedSolveBackend>(new BatchedSolveNative());
        Register<ITransposeBackend>(new TransposeNative());
        Register<ISampleBackend>(new SampleNative());
        Register<ISymmetricEigenBackend>(new SymmetricEigenNative());
        Register<IDdpnBackend>(new DdpnNative());
    }

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
}
