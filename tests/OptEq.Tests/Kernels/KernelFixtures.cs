using ILGPU.Runtime.CPU;
using NUnit.Framework;
using OptEq.Kernels;
using OptEq.Kernels.Activations;
using OptEq.Kernels.Ilgpu;

namespace OptEq.Tests.Kernels;

/// <summary>The native vectorised CPU backend.</summary>
[TestFixture]
public sealed class NativeCpuKernelTests : KernelTestsBase
{
    protected override Device CreateDevice() => DeviceCatalog.Open("cpu");
}

/// <summary>
/// The ILGPU kernels on ILGPU's CPU simulator as "ilgpu-cpu" configures it (warp 32, 256 threads per group): the launch
/// shapes CUDA gets, with out-of-bounds view accesses checked.
/// </summary>
[TestFixture]
public sealed class IlgpuCpuKernelTests : KernelTestsBase
{
    protected override Device CreateDevice() => DeviceCatalog.Open(DeviceCatalog.SimulatorId);

    [Test]
    public void KernelsAreLoadedOnce()
    {
        var ilgpu = (IlgpuDevice)Device;
        using var a = Device.FromArray(new float[] { 1, 2, 3, 4 }, 2, 2);
        using var c = Device.Allocate<float>(2, 2);
        Device.Gemm(MatrixOp.None, MatrixOp.None, 1f, a, a, 0f, c);
        Device.Prox(Activation.Tanh, a, c);
        int loaded = ilgpu.Kernels.Count;
        Device.Gemm(MatrixOp.Transpose, MatrixOp.None, 2f, a, a, 1f, c);
        Device.Prox(Activation.Tanh, a, c);
        Assert.That(ilgpu.Kernels.Count, Is.EqualTo(loaded), "a second launch loaded a kernel again");
        Device.Prox(Activation.Sigmoid, a, c);
        Assert.That(ilgpu.Kernels.Count, Is.EqualTo(loaded + 1), "each activation has its own specialised prox kernel");
        Assert.That(c.ToArray(), Is.EqualTo(new[] { 1 / (1 + MathF.Exp(-1)), 1 / (1 + MathF.Exp(-2)), 1 / (1 + MathF.Exp(-3)), 1 / (1 + MathF.Exp(-4)) }).Within(1e-6));
    }
}

/// <summary>
/// The ILGPU kernels on ILGPU's default CPU simulator (warp 4, 16 threads per group): the fallback launch shapes for
/// devices with small groups (16 × 16 GEMM tiles, 8 × 8 transpose tiles, 16-thread reductions).
/// </summary>
[TestFixture]
public sealed class IlgpuSmallGroupKernelTests : KernelTestsBase
{
    protected override Device CreateDevice() => DeviceCatalog.OpenSimulator("ilgpu-cpu-16", CPUDevice.Default);
}

/// <summary>The ILGPU kernels on the first CUDA GPU; ignored where there is none.</summary>
[TestFixture]
public sealed class CudaKernelTests : KernelTestsBase
{
    protected override Device CreateDevice()
    {
        if (!DeviceCatalog.Available().Any(d => d.Kind == DeviceKind.Cuda))
            Assert.Ignore("no CUDA device here");
        return DeviceCatalog.Open("cuda:0");
    }
}
