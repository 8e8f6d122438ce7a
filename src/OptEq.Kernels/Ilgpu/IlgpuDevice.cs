using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace OptEq.Kernels.Ilgpu;

/// <summary>
/// An ILGPU accelerator: CUDA, OpenCL, or ILGPU's CPU accelerator (which emulates GPU threads to check kernels
/// without a GPU; it is about a thousand times slower than the native backend and never the CPU path).
/// Kernels are loaded once per device and element type and cached (see <see cref="IlgpuKernelCache"/>).
/// </summary>
public sealed partial class IlgpuDevice : Device
{
    internal IlgpuDevice(DeviceInfo info, Accelerator accelerator) : base(info)
    {
        Accelerator = accelerator;
        Kernels = new IlgpuKernelCache(accelerator);
        // One line per kernel family (Families/<Family>/<Family>Ilgpu.cs).
        Register<IElementwiseBackend>(new ElementwiseIlgpu(this));
        Register<IGemmBackend>(new GemmIlgpu(this));
        Register<IProxBackend>(new ProxIlgpu(this));
        Register<IRowReduceBackend>(new RowReduceIlgpu(this));
        Register<ILossBackend>(new LossIlgpu(this));
        Register<IAndersonBackend>(new AndersonIlgpu(this));
        Register<IBatchedSolveBackend>(new BatchedSolveIlgpu(this));
        Register<ITransposeBackend>(new TransposeIlgpu(this));
        Register<ISampleBackend>(new SampleIlgpu(this));
        Register<ISymmetricEigenBackend>(new SymmetricEigenIlgpu(this));
        Register<IDdpnBackend>(new DdpnIlgpu(this));
        Register<ISpdInverseBackend>(new SpdInverseIlgpu(this));
        Register<IConv2dBackend>(new Conv2dIlgpu(this));
        Register<IPool2dBackend>(new Pool2dIlgpu(this));
        Register<ICircularConvSpectrumBackend>(new CircularConvSpectrumIlgpu(this));
    }

    public Accelerator Accelerator { get; }
    internal IlgpuKernelCache Kernels { get; }

    protected internal override Storage<T> CreateStorage<T>(long length) => new IlgpuStorage<T>(this, length);

    public override void Synchronize() => Accelerator.Synchronize();

    public override void Dispose()
    {
        base.Dispose();
        Accelerator.Dispose();
    }

    internal static DeviceKind KindOf(AcceleratorType type) => type switch
    {
        AcceleratorType.Cuda => DeviceKind.Cuda,
        AcceleratorType.OpenCL => DeviceKind.OpenCL,
        _ => DeviceKind.IlgpuCpu,
    };

    internal static DeviceInfo Describe(string id, ILGPU.Runtime.Device d)
    {
        var props = new List<KeyValuePair<string, string>>
        {
            new("accelerator", d.AcceleratorType.ToString()),
            new("memory", d.MemorySize >= long.MaxValue / 2 ? "host" : $"{d.MemorySize / (1 << 20)} MiB"),
            new("warp size", d.WarpSize.ToString()),
            new("max threads per group", d.MaxNumThreadsPerGroup.ToString()),
            new("shared memory per group", $"{d.MaxSharedMemoryPerGroup / 1024} KiB"),
            new("multiprocessors", d.NumMultiprocessors.ToString()),
        };
        if (d is CudaDevice cuda) props.Add(new("compute capability", $"{cuda.Architecture}"));
        if (d is CLDevice cl) props.Add(new("opencl", cl.CVersion.ToString()));
        return new DeviceInfo(id, KindOf(d.AcceleratorType), d.Name, props);
    }

}
