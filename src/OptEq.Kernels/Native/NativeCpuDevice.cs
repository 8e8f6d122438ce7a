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
        Register<ISpdInverseBackend>(new SpdInverseNative());
        Register<IConv2dBackend>(new Conv2dNative(this));
        Register<IPool2dBackend>(new Pool2dNative());
        Register<ICircularConvSpectrumBackend>(new CircularConvSpectrumNative(this));
    }

    public static DeviceInfo Describe()
    {
        return new DeviceInfo(DeviceId, DeviceKind.NativeCpu, "native CPU (vectorised C#)",
        [
            new("cores", Environment.ProcessorCount.ToString()),
            new("simd", SimdWidth.Describe(SimdWidth.Current)),
            new("sgemm", NativeGemm.KernelFor(SimdWidth.Current) switch
            {
                SgemmKernel.Avx512 => "14x32 AVX-512 micro-kernel",
                SgemmKernel.Vector256 => "6x16 256-bit micro-kernel",
                SgemmKernel.Vector128 => "6x8 128-bit micro-kernel",
                _ => "scalar fallback",
            }),
            new("fma", System.Runtime.Intrinsics.X86.Fma.IsSupported || System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported ? "yes" : "no"),
            new("memory", $"{GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1 << 20)} MiB"),
            new("float64", "yes"),
        ]);
    }

    protected internal override Storage<T> CreateStorage<T>(long length) => new NativeStorage<T>(this, length);

    public override void Synchronize() { }
}
