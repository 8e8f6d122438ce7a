using NUnit.Framework;
using OptEq.Kernels;

namespace OptEq.Tests.Kernels;

/// <summary>
/// Every kernel of a <see cref="Device"/> against the float64 <see cref="OptEq.Kernels.Reference.ReferenceKernels"/>, written once
/// and run by one fixture per backend. Since each backend is held to the same reference with the same tolerances, the
/// native and the ILGPU backends agree with each other to within twice those tolerances; no separate cross-check is needed.
///
/// Sizes are small (the ILGPU CPU simulator runs each thread as an OS thread): 1, primes, sizes that are not multiples
/// of any tile, k much larger than m and n. Inputs are float32-representable, so float32 and float64 runs see exactly
/// the reference's inputs. Tolerances are stated per kernel, in units of T's unit roundoff u (2⁻²⁴ or 2⁻⁵³).
/// </summary>
public abstract partial class KernelTestsBase
{
    protected Device Device { get; private set; } = null!;

    /// <summary>Opens the backend under test; called once per fixture.</summary>
    protected abstract Device CreateDevice();

    [OneTimeSetUp]
    public void OpenDevice() => Device = CreateDevice();

    [OneTimeTearDown]
    public void CloseDevice() => Device?.Dispose();

    /// <summary>Runs the float32 or the float64 version of a generic check.</summary>
    protected static void Run(Precision precision, Action float32, Action float64)
    {
        if (precision == Precision.Float32) float32();
        else float64();
    }
}
