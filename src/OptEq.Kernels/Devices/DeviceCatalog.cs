using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;
using OptEq.Kernels.Ilgpu;
using OptEq.Kernels.Native;

namespace OptEq.Kernels;

/// <summary>
/// Lists and opens devices. Ids: "cpu" (native backend), "cuda[:i]", "opencl[:i]", "ilgpu-cpu".
/// <see cref="Open"/> with no id reads OPTEQ_DEVICE, else picks CUDA when present, else the native CPU.
/// </summary>
public static class DeviceCatalog
{
    public const string EnvironmentVariable = "OPTEQ_DEVICE";
    public const string SimulatorId = "ilgpu-cpu";

    /// <summary>
    /// The configuration "ilgpu-cpu" simulates: warp 32 and up to 256 threads per group, like a GPU, so the kernels
    /// run with the launch shapes they get on CUDA (the 64×64 GEMM tiles of 256 threads, 32×8 transpose tiles, groups of
    /// 256 for reductions). ILGPU's default simulator (warp 4, 16 threads) is cheaper per barrier but would only ever run
    /// the small fallback shapes. One multiprocessor: this machine is small, and each simulated thread is an OS thread.
    /// </summary>
    public static CPUDevice Simulator { get; } = new(numThreadsPerWarp: 32, numWarpsPerMultiprocessor: 8, numMultiprocessors: 1);

    private static readonly Lazy<Context> SharedContext = new(() =>
        Context.Create(builder => builder.Cuda().OpenCL().AutoAssertions().EnableAlgorithms().Math(MathMode.Default)),
        LazyThreadSafetyMode.ExecutionAndPublication);

    // The simulator gets its own context with assertions on: a kernel that indexes outside a view stops the process
    // with "Index out of range" instead of silently writing elsewhere. GPU contexts stay without these checks.
    private static readonly Lazy<Context> SimulatorContext = new(() =>
        Context.Create(builder => builder.CPU(Simulator).DefaultCPU().Assertions().EnableAlgorithms().Math(MathMode.Default)),
        LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The process-wide ILGPU context for GPUs (created on first use).</summary>
    public static Context Context => SharedContext.Value;

    private sealed record Entry(DeviceInfo Info, ILGPU.Runtime.Device? Ilgpu);

    private static IReadOnlyList<Entry> Entries()
    {
        var list = new List<Entry> { new(NativeCpuDevice.Describe(), null) };
        int cuda = 0, opencl = 0;
        foreach (var d in Context)
        {
            switch (d.AcceleratorType)
            {
                case AcceleratorType.Cuda: list.Add(new(IlgpuDevice.Describe($"cuda:{cuda++}", d), d)); break;
                case AcceleratorType.OpenCL: list.Add(new(IlgpuDevice.Describe($"opencl:{opencl++}", d), d)); break;
            }
        }
        list.Add(new(IlgpuDevice.Describe(SimulatorId, Simulator), Simulator));
        return list;
    }

    public static IReadOnlyList<DeviceInfo> Available() => Entries().Select(e => e.Info).ToList();

    /// <summary>The id used when none is given: OPTEQ_DEVICE, else CUDA when present, else "cpu".</summary>
    public static string DefaultId()
    {
        var env = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(env)) return env.Trim();
        return Entries().Any(e => e.Info.Kind == DeviceKind.Cuda) ? "cuda:0" : NativeCpuDevice.DeviceId;
    }

    /// <summary>Opens a device by id ("cuda" means "cuda:0"). An unknown or absent device is an error listing the available ids.</summary>
    public static Device Open(string? id = null)
    {
        id = string.IsNullOrWhiteSpace(id) ? DefaultId() : id.Trim().ToLowerInvariant();
        if (id is "cuda" or "opencl") id += ":0";
        if (id == NativeCpuDevice.DeviceId) return new NativeCpuDevice();
        if (id == SimulatorId) return OpenSimulator(SimulatorId, Simulator);
        var entries = Entries();
        var entry = entries.FirstOrDefault(e => e.Info.Id == id);
        if (entry?.Ilgpu is null)
            throw new DeviceNotFoundException(id, entries.Select(e => e.Info.Id).ToList());
        return new IlgpuDevice(entry.Info, entry.Ilgpu.CreateAccelerator(Context));
    }

    /// <summary>An ILGPU CPU simulator of the given configuration (tests also use ILGPU's small default one).</summary>
    internal static IlgpuDevice OpenSimulator(string id, CPUDevice simulator)
        => new(IlgpuDevice.Describe(id, simulator), simulator.CreateAccelerator(SimulatorContext.Value));
}

/// <summary>The requested device is not present; the message lists the ones that are.</summary>
public sealed class DeviceNotFoundException(string id, IReadOnlyList<string> available)
    : Exception($"device '{id}' is not available here; available: {string.Join(", ", available)} (choose with --device or {DeviceCatalog.EnvironmentVariable})")
{
    public string RequestedId { get; } = id;
    public IReadOnlyList<string> AvailableIds { get; } = available;
}
