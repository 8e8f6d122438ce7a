using NUnit.Framework;
using OptEq.Autodiff;
using OptEq.Autodiff.Optimizers;
using OptEq.Kernels.Native;

namespace OptEq.Tests.Optimizers;

/// <summary>Invalid options are errors where they are written, and the error names the option.</summary>
public class OptionsTests
{
    private static void ThrowsNaming(TestDelegate build, string option, string message) =>
        Assert.That(build, Throws.TypeOf<ArgumentOutOfRangeException>()
            .With.Property("ParamName").EqualTo(option).And.Message.Contains(message));

    [Test]
    public void SgdOptionsAreChecked()
    {
        ThrowsNaming(() => _ = new SgdOptions { LearningRate = -0.1 }, "LearningRate", "LearningRate must be finite and ≥ 0");
        ThrowsNaming(() => _ = new SgdOptions { LearningRate = double.PositiveInfinity }, "LearningRate", "LearningRate must be finite");
        ThrowsNaming(() => _ = new SgdOptions { Momentum = -0.5 }, "Momentum", "Momentum must be finite and ≥ 0");
        ThrowsNaming(() => _ = new SgdOptions { Dampening = 1.5 }, "Dampening", "Dampening must lie in [0, 1]");
        ThrowsNaming(() => _ = new SgdOptions { WeightDecay = -1e-4 }, "WeightDecay", "WeightDecay must be finite and ≥ 0");
        ThrowsNaming(() => _ = new SgdOptions { WeightDecay = double.NaN }, "WeightDecay", "WeightDecay must be finite and ≥ 0");
    }

    [Test]
    public void NesterovNeedsMomentumWithoutDampening()
    {
        using var device = new NativeCpuDevice();
        using var p = new Parameter<double>("p", device.Allocate<double>(2));
        Assert.That(() => new Sgd<double>([p], new SgdOptions { Nesterov = true }),
            Throws.ArgumentException.With.Property("ParamName").EqualTo("Nesterov").And.Message.Contains("Nesterov needs Momentum > 0"));
        Assert.That(() => new Sgd<double>([p], new SgdOptions { Nesterov = true, Momentum = 0.9, Dampening = 0.1 }),
            Throws.ArgumentException.With.Property("ParamName").EqualTo("Nesterov").And.Message.Contains("Dampening = 0"));
        Assert.That(new SgdOptions { Nesterov = true, Momentum = 0.9 }.Validate, Throws.Nothing);
    }

    [Test]
    public void AdamOptionsAreChecked()
    {
        ThrowsNaming(() => _ = new AdamOptions { LearningRate = -1e-3 }, "LearningRate", "LearningRate must be finite and ≥ 0");
        ThrowsNaming(() => _ = new AdamOptions { Beta1 = 1 }, "Beta1", "Beta1 must lie in [0, 1)");
        ThrowsNaming(() => _ = new AdamOptions { Beta1 = -0.1 }, "Beta1", "Beta1 must lie in [0, 1)");
        ThrowsNaming(() => _ = new AdamOptions { Beta2 = 1.0 }, "Beta2", "Beta2 must lie in [0, 1)");
        ThrowsNaming(() => _ = new AdamOptions { Beta2 = double.NaN }, "Beta2", "Beta2 must lie in [0, 1)");
        ThrowsNaming(() => _ = new AdamOptions { Epsilon = 0 }, "Epsilon", "Epsilon must be finite and > 0");
        ThrowsNaming(() => _ = new AdamOptions { Epsilon = -1e-8 }, "Epsilon", "Epsilon must be finite and > 0");
        ThrowsNaming(() => _ = new AdamWOptions { WeightDecay = -0.01 }, "WeightDecay", "WeightDecay must be finite and ≥ 0");
        Assert.That(new AdamOptions { Beta1 = 0, Beta2 = 0 }.Beta1, Is.EqualTo(0.0), "β = 0 is allowed (no averaging)");
    }

    [Test]
    public void AdamRejectsAdamWOptions()
    {
        using var device = new NativeCpuDevice();
        using var p = new Parameter<double>("p", device.Allocate<double>(2));
        Assert.That(() => new Adam<double>([p], new AdamWOptions()), Throws.ArgumentException.With.Message.Contains("AdamWOptions are for AdamW"));
    }
}
