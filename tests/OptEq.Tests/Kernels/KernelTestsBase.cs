using ILGPU.Runtime.CPU;
using NUnit.Framework;
using OptEq.Kernels;
using OptEq.Kernels.Native;

namespace OptEq.Tests.Kernels;

/// <summary>
/// The base of every kernel family's tests (Kernels/&lt;Family&gt;/): each family's fixture runs on every backend of
/// <see cref="KernelBackends"/>, held to the float64 <see cref="OptEq.Kernels.Reference.ReferenceKernels"/> or to a
/// plain loop written in the test. Since each backend is held to the same reference with the same tolerances, the
/// native and the ILGPU backends agree with each other to within twice those tolerances; no separate cross-check is needed.
///
/// Sizes are small (the ILGPU CPU simulator runs each thread as an OS thread): 1, primes, sizes that are not multiples
/// of any tile, k much larger than m and n. Inputs are float32-representable, so float32 and float64 runs see exactly
/// the reference's inputs. Tolerances are stated per kernel, in units of T's unit roundoff u (2⁻²⁴ or 2⁻⁵³).
/// </summary>
public abstract class KernelTestsBase(string backend)
{
    protected Device Device { get; private set; } = null!;

    /// <summary>The backend under test, as named in <see cref="KernelBackends.All"/>.</summary>
    protected string Backend => backend;

    [OneTimeSetUp]
    public void OpenDevice() => Device = KernelBackends.Open(backend);

    [OneTimeTearDown]
    public void CloseDevice()
    {
        Device?.Dispose();
        KernelBackends.Close(backend);
    }

    /// <summary>Runs the float32 or the float64 version of a generic check.</summary>
    protected static void Run(Precision precision, Action float32, Action float64)
    {
        if (precision == Precision.Float32) float32();
        else float64();
    }
}

/// <summary>The backends every kernel family is tested on.</summary>
public static class KernelBackends
{
    /// <summary>The native vectorised CPU backend.</summary>
    public const string Native = "cpu";

    /// <summary>
    /// The ILGPU kernels on ILGPU's CPU simulator as "ilgpu-cpu" configures it (warp 32, 256 threads per group): the launch
    /// shapes CUDA gets, with out-of-bounds view accesses checked.
    /// </summary>
    public const string IlgpuCpu = "ilgpu-cpu";

    /// <summary>
    /// The ILGPU kernels on ILGPU's default CPU simulator (warp 4, 16 threads per group): the fallback launch shapes for
    /// devices with small groups (16 × 16 GEMM tiles, 8 × 8 transpose tiles, 16-thread reductions).
    /// </summary>
    public const string IlgpuSmallGroups = "ilgpu-cpu-16";

    /// <summary>The ILGPU kernels on the first CUDA GPU; the fixture is ignored where there is none.</summary>
    public const string Cuda = "cuda:0";

    /// <summary>
    /// The native backend run at a narrower vector width than the hardware's ("cpu@256", "cpu@128", "cpu@0" for scalar
    /// code only), one per width this CPU accelerates below its widest: every native kernel is tested at every width.
    /// The width is process-wide, set for the fixture and restored after it (fixtures run one at a time).
    /// </summary>
    public static readonly string[] NativeNarrowerWidths =
        SimdWidth.Supported.Where(w => w != SimdWidth.Hardware).Select(w => $"{Native}@{(int)w}").ToArray();

    /// <summary>
    /// Every backend, or only the native ones (at each width) when the environment sets OPTEQ_NATIVE_KERNELS_ONLY=1:
    /// .ci/run re-runs the native kernel fixtures that way under DOTNET_EnableAVX2=0 and DOTNET_EnableAVX512=0.
    /// </summary>
    public static readonly string[] All = Environment.GetEnvironmentVariable("OPTEQ_NATIVE_KERNELS_ONLY") == "1"
        ? [Native, .. NativeNarrowerWidths]
        : [Native, .. NativeNarrowerWidths, IlgpuCpu, IlgpuSmallGroups, Cuda];

    public static Device Open(string backend)
    {
        switch (backend)
        {
            case Native: return DeviceCatalog.Open("cpu");
            case IlgpuCpu: return DeviceCatalog.Open(DeviceCatalog.SimulatorId);
            case IlgpuSmallGroups: return DeviceCatalog.OpenSimulator(IlgpuSmallGroups, CPUDevice.Default);
            case Cuda:
                if (!DeviceCatalog.Available().Any(d => d.Kind == DeviceKind.Cuda))
                    Assert.Ignore("no CUDA device here");
                return DeviceCatalog.Open(Cuda);
            case var narrower when NativeNarrowerWidths.Contains(narrower):
                SimdWidth.Override = (VectorWidth)int.Parse(narrower[(Native.Length + 1)..]);
                return DeviceCatalog.Open("cpu");
            default: throw new ArgumentException($"unknown backend {backend}; valid: {string.Join(", ", All)}");
        }
    }

    /// <summary>Undoes what <see cref="Open"/> changed beyond the device: the vector width of a "cpu@N" backend.</summary>
    public static void Close(string backend)
    {
        if (NativeNarrowerWidths.Contains(backend)) SimdWidth.Override = null;
    }
}
