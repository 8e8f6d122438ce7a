using NUnit.Framework;
using OptEq.Autodiff;
using OptEq.Autodiff.Optimizers;
using OptEq.Kernels.Native;

namespace OptEq.Tests.Optimizers;

public class SgdTests
{
    /// <summary>Several steps (learning rate changed half-way) equal PyTorch's SGD formulas, for a decayed and a NoWeightDecay parameter.</summary>
    [TestCase(0.0, 0.0, false, 0.0)]
    [TestCase(0.0, 0.0, false, 0.1)]
    [TestCase(0.9, 0.0, false, 0.0)]
    [TestCase(0.9, 0.3, false, 0.05)]
    [TestCase(0.9, 0.0, true, 0.05)]
    public void MatchesPyTorchFormulas(double momentum, double dampening, bool nesterov, double weightDecay)
    {
        using var device = new NativeCpuDevice();
        var random = new Random(3);
        var host = new[] { TorchReference.Gaussian(random, 12), TorchReference.Gaussian(random, 4) };
        using var w = new Parameter<double>("w", device.FromArray(host[0], 3, 4));
        using var b = new Parameter<double>("b", device.FromArray(host[1], 4)) { NoWeightDecay = true };
        var parameters = new[] { w, b };
        using var sgd = new Sgd<double>(parameters, new SgdOptions
        {
            LearningRate = 0.1, Momentum = momentum, Dampening = dampening, Nesterov = nesterov, WeightDecay = weightDecay,
        });
        var reference = new TorchReference.Sgd(momentum, dampening, nesterov, weightDecay);

        for (int step = 0; step < 6; step++)
        {
            if (step == 3) sgd.LearningRate = 0.05;
            for (int i = 0; i < 2; i++)
            {
                var g = TorchReference.Gaussian(random, host[i].Length);
                parameters[i].Grad.CopyFrom(g);
                reference.Step(i, host[i], g, sgd.LearningRate, parameters[i].NoWeightDecay);
            }
            sgd.Step();
            for (int i = 0; i < 2; i++)
                Assert.That(parameters[i].Value.ToArray(), Is.EqualTo(host[i]).Within(1e-12), $"{parameters[i].Name} after step {step + 1}");
        }
        Assert.That(sgd.StepCount, Is.EqualTo(6));
    }

    [Test]
    public void StateIsTheMomentumBufferOnly()
    {
        using var device = new NativeCpuDevice();
        using var w = new Parameter<double>("w", device.Allocate<double>(2, 2));
        using var plain = new Sgd<double>([w]);
        Assert.That(plain.State(), Is.Empty);
        using var heavy = new Sgd<double>([w], new SgdOptions { Momentum = 0.9 });
        Assert.That(heavy.State().Select(s => s.Name), Is.EqualTo(new[] { "w.sgd.momentum" }));
        Assert.That(heavy.State().Single().Tensor.Shape, Is.EqualTo(new[] { 2, 2 }));
    }

    [Test]
    public void FloatMatchesTheDoubleReference()
    {
        using var device = new NativeCpuDevice();
        var random = new Random(5);
        var host = TorchReference.Gaussian(random, 7).Select(x => (double)(float)x).ToArray();
        using var p = new Parameter<float>("p", device.FromArray(host.Select(x => (float)x).ToArray(), 7));
        using var sgd = new Sgd<float>([p], new SgdOptions { LearningRate = 0.1, Momentum = 0.9, Nesterov = true, WeightDecay = 0.01 });
        var reference = new TorchReference.Sgd(0.9, 0, true, 0.01);
        for (int step = 0; step < 5; step++)
        {
            var g = TorchReference.Gaussian(random, 7).Select(x => (double)(float)x).ToArray();
            p.Grad.CopyFrom(g.Select(x => (float)x).ToArray());
            reference.Step(0, host, g, 0.1, noWeightDecay: false);
            sgd.Step();
        }
        // Float rounding of a handful of operations per step on values of order 1.
        Assert.That(p.Value.ToArray().Select(x => (double)x), Is.EqualTo(host).Within(1e-5));
    }
}
