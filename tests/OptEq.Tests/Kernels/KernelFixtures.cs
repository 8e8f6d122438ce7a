using NUnit.Framework;
using OptEq.Kernels;
using OptEq.Kernels.Activations;
using OptEq.Kernels.Ilgpu;

namespace OptEq.Tests.Kernels;

/// <summary>What is particular to the ILGPU backend: kernels are loaded once per device, type and specialisation.</summary>
[TestFixture]
public sealed class IlgpuKernelCacheTests() : KernelTestsBase(KernelBackends.IlgpuCpu)
{
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

    /// <summary>
    /// Finding a loaded kernel allocates nothing. It once did (a closure per lookup, about 80 bytes per launch), which a
    /// conv-opteq training step on an H200 showed as 44 KB of managed allocation per step.
    /// </summary>
    [Test]
    public void FindingALoadedKernelAllocatesNothing()
    {
        var cache = ((IlgpuDevice)Device).Kernels;
        static Action<ILGPU.Runtime.Accelerator> Load(ILGPU.Runtime.Accelerator accelerator) => _ => { };
        var first = cache.Get("allocation-probe", typeof(float), null, Load);
        Assert.That(cache.Get("allocation-probe", typeof(float), null, Load), Is.SameAs(first));
        SteadyStateAllocation.AssertNone(() => cache.Get("allocation-probe", typeof(float), null, Load), 10, "kernel cache hits");
    }
}

/// <summary>The kernel-family registry: a family defined outside the library registers on a device and is found again.</summary>
[TestFixture]
public sealed class KernelFamilyRegistryTests
{
    private interface IUserFamily { int Answer { get; } }
    private sealed class UserFamily(int answer) : IUserFamily { public int Answer => answer; }

    [Test]
    public void AFamilyRegisteredOnADeviceIsFoundAndOthersAreReported()
    {
        using var device = DeviceCatalog.Open("cpu");
        Assert.That(device.Supports<IUserFamily>(), Is.False);
        Assert.That(() => device.Family<IUserFamily>(), Throws.InstanceOf<NotSupportedException>().With.Message.Contains(nameof(IUserFamily)));
        device.Register<IUserFamily>(new UserFamily(42));
        Assert.That(device.Supports<IUserFamily>(), Is.True);
        Assert.That(device.Family<IUserFamily>().Answer, Is.EqualTo(42));
        using var other = DeviceCatalog.Open("cpu");
        Assert.That(other.Supports<IUserFamily>(), Is.False, "registration is per device");
    }
}
