using NUnit.Framework;
using OptEq.Autodiff.Checks;
using OptEq.Kernels.Native;

namespace OptEq.Tests.Autodiff;

/// <summary>Every op and every layer × exact backward mode against central finite differences in float64.</summary>
public class GradientCheckTests
{
    private static NativeCpuDevice? _device;
    private static NativeCpuDevice Device => _device ??= new NativeCpuDevice();

    [OneTimeTearDown] public void Close() => _device?.Dispose();

    [Test]
    public void OpsMatchFiniteDifferences()
    {
        var failures = GradientCheckSuite.Ops(Device).Where(r => !r.Passes).Select(Describe).ToList();
        Assert.That(failures, Is.Empty);
    }

    [Test]
    public void LayersInExactModesMatchFiniteDifferences()
    {
        var results = GradientCheckSuite.Layers(Device).ToList();
        foreach (var r in results) TestContext.Out.WriteLine(Describe(r));
        Assert.That(results.Count, Is.GreaterThan(15));
        foreach (var convolutional in new[] { "conv-opteq-relu-zero", "conv-opteq-relu-circular", "conv-opteq-relu-zero-blocked", "conv-opteq-relu-circular-blocked",
                     "conv-opteq-relu-circular-fourier", "multitier-opteq-relu", "conv-mon-tanh" })
            Assert.That(results.Select(r => r.Target), Does.Contain(convolutional), "the convolutional layers are checked too, conv-opteq with each WᵀW method");
        Assert.That(results.Where(r => !r.Passes).Select(Describe), Is.Empty);
    }

    private static string Describe(GradientCheckResult r) => $"{r.Target} {r.Mode}: {r.MaxRelativeError:e2} over {r.Checked} entries (worst {r.WorstEntry})";
}
