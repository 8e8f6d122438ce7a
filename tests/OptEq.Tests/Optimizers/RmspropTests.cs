using NUnit.Framework;
using OptEq.Autodiff;
using OptEq.Autodiff.Optimizers;
using OptEq.Kernels.Native;

namespace OptEq.Tests.Optimizers;

/// <summary>RMSprop (docs/math.md §7.7) against its formula, written out in float64.</summary>
public class RmspropTests
{
    [Test]
    public void ThreeStepsFollowTheFormula()
    {
        using var device = new NativeCpuDevice();
        double[] p0 = [0.5, -1.25, 2, 0], grads = [0.3, -0.7, 0.01, 1.5];
        using var p = new Parameter<double>("w", device.FromArray(p0, 4));
        using var opt = new Rmsprop<double>([p], new RmspropOptions { LearningRate = 0.01, Alpha = 0.9, Epsilon = 1e-6, WeightDecay = 0.1 });
        var expected = (double[])p0.Clone();
        var v = new double[4];
        for (int step = 0; step < 3; step++)
        {
            var g = grads.Select(x => x * (step + 1)).ToArray();
            p.Grad.CopyFrom(g);
            opt.Step();
            for (int i = 0; i < 4; i++)
            {
                double gt = g[i] + 0.1 * expected[i];
                v[i] = 0.9 * v[i] + 0.1 * gt * gt;
                expected[i] -= 0.01 * gt / (Math.Sqrt(v[i]) + 1e-6);
            }
        }
        Assert.That(p.Value.ToArray(), Is.EqualTo(expected).Within(1e-14));
        Assert.That(opt.State().Single().Name, Is.EqualTo("w.rmsprop.v"));
    }
}
