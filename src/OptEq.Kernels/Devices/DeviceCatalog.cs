using ILGPU;
using ILGPU.Runtime;
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

    private static readonly Lazy<Context> SharedContext = new(() =>
        Context.Create(builder => builder.Default().EnableAlgorithms().Math(MathMode.Default)), LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The process-wide ILGPU context (created on first use).</summary>
    public static Context Context => SharedContext.Value;

    private sealed record Entry(DeviceInfo Info, ILGPU.Runtime.Device? Ilgpu);

    private static IReadOnlyList<Entry> Entries()
    {
        var list = new List<Entry> { new(NativeCpuDevice.Describe(), null) };
        int cuda = 0, opencl = 0;
        bool cpuSeen = false;
        foreach (var d in Context)
        {
            switch (d.AcceleratorType)
            {
                case AcceleratorType.Cuda: list.Add(new(IlgpuDevice.Describe($"cuda:{cuda++}", d), d)); break;
                case AcceleratorType.OpenCL: list.Add(new(IlgpuDevice.Describe($"opencl:{opencl++}", d), d)); break;
                case AcceleratorType.CPU when !cpuSeen:
                    // ILGPU lists several CPU simulators; the first (smallest warp) is enough to check kernels.
                    cpuSeen = true;
                    list.Add(new(IlgpuDevice.Describe("ilgpu-cpu", d), d));
                    break;
            }
        }
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
        var entries = Entries();
        var entry = entries.FirstOrDefault(e => e.Info.Id == id);
        if (entry?.Ilgpu is null)
            throw new DeviceNotFoundException(id, entries.Select(e => e.Info.Id).ToList());
        return new IlgpuDevice(entry.Info, entry.Ilgpu.CreateAccelerator(Context));
    }
}

/// <summary>The requested device is not present; the message lists the ones that are.</summary>
public sealed class DeviceNotFoundException(string id, IReadOnlyList<string> available)
    : Exception($"device '{id}' is not available here; available: {string.Join(", ", available)} (choose with --device or {DeviceCatalog.EnvironmentVariable})")
{
    public string RequestedId { get; } = id;
    public IReadOnlyList<string> AvailableIds { get; } = available;
}
