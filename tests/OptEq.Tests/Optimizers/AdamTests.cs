using System.Numerics;
using NUnit.Framework;
using OptEq.Autodiff;
using OptEq.Autodiff.Optimizers;
using OptEq.Autodiff.Optimizers.Schedules;
using OptEq.Kernels.Native;

namespace OptEq.Tests.Optimizers;

public class AdamTests
{
    private static Adam<double> Create(bool decoupled, IEnumerable<Parameter<double>> parameters, double beta1, double beta2, double eps, double weightDecay)
    {
        return decoupled
            ? new AdamW<double>(parameters, new AdamWOptions { LearningRate = 0.01, Beta1 = beta1, Beta2 = beta2, Epsilon = eps, WeightDecay = weightDecay })
            : new Adam<double>(parameters, new AdamOptions { LearningRate = 0.01, Beta1 = beta1, Beta2 = beta2, Epsilon = eps, WeightDecay = weightDecay });
    }

    /// <summary>Eight steps (learning rate changed half-way) equal PyTorch's Adam / AdamW formulas, for a decayed and a NoWeightDecay parameter.</summary>
    [TestCase(false, 0.9, 0.999, 1e-8, 0.0)]
    [TestCase(false, 0.9, 0.999, 1e-8, 0.1)]
    [TestCase(false, 0.0, 0.5, 1e-3, 0.1)]
    [TestCase(true, 0.9, 0.999, 1e-8, 0.0)]
    [TestCase(true, 0.9, 0.999, 1e-8, 0.1)]
    [TestCase(true, 0.5, 0.9, 1e-2, 0.3)]
    public void MatchesPyTorchFormulas(bool decoupled, double beta1, double beta2, double eps, double weightDecay)
    {
        using var device = new NativeCpuDevice();
        var random = new Random(11);
        var host = new[] { TorchReference.Gaussian(random, 15), TorchReference.Gaussian(random, 5) };
        using var w = new Parameter<double>("w", device.FromArray(host[0], 3, 5));
        using var b = new Parameter<double>("b", device.FromArray(host[1], 5)) { NoWeightDecay = true };
        var parameters = new[] { w, b };
        using var adam = Create(decoupled, parameters, beta1, beta2, eps, weightDecay);
        var reference = new TorchReference.Adam(beta1, beta2, eps, weightDecay, decoupled);

        for (int step = 0; step < 8; step++)
        {
            if (step == 4) adam.LearningRate = 0.003;
            for (int i = 0; i < 2; i++)
            {
                var g = TorchReference.Gaussian(random, host[i].Length);
                parameters[i].Grad.CopyFrom(g);
                reference.Step(i, host[i], g, adam.LearningRate, parameters[i].NoWeightDecay);
            }
            adam.Step();
            for (int i = 0; i < 2; i++)
                Assert.That(parameters[i].Value.ToArray(), Is.EqualTo(host[i]).Within(1e-12), $"{parameters[i].Name} after step {step + 1}");
        }
    }

    [Test]
    public void StateNamesSayWhichOptimizer()
    {
        using var device = new NativeCpuDevice();
        using var w = new Parameter<double>("w", device.Allocate<double>(2, 3));
        using var b = new Parameter<double>("b", device.Allocate<double>(3));
        using var adam = new Adam<double>([w, b]);
        Assert.That(adam.State().Select(s => s.Name), Is.EqualTo(new[] { "w.adam.m", "b.adam.m", "w.adam.v", "b.adam.v" }));
        using var adamW = new AdamW<double>([w, b]);
        Assert.That(adamW.State().Select(s => s.Name), Is.EqualTo(new[] { "w.adamw.m", "b.adamw.m", "w.adamw.v", "b.adamw.v" }));
        Assert.That(adamW.Options.WeightDecay, Is.EqualTo(0.01), "AdamW's default decoupled decay, as PyTorch");
        Assert.That(adam.Options.WeightDecay, Is.EqualTo(0.0));
    }

    /// <summary>f(p) = ½ Σ aᵢ(pᵢ − cᵢ)² with curvatures 1 … 10, gradient computed on the host each step.</summary>
    private static double MinimiseQuadratic<T>(Func<Parameter<T>, Optimizer<T>> create, int steps, ILearningRateSchedule schedule)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var device = new NativeCpuDevice();
        const int n = 10;
        var curvature = Enumerable.Range(1, n).Select(i => (double)i).ToArray();
        var target = Enumerable.Range(0, n).Select(i => Math.Sin(i + 1)).ToArray();
        using var p = new Parameter<T>("p", device.Allocate<T>(n));
        using var optimizer = create(p);
        double Loss(double[] x) => Enumerable.Range(0, n).Sum(i => 0.5 * curvature[i] * (x[i] - target[i]) * (x[i] - target[i]));
        var x = new double[n];
        Assert.That(Loss(x), Is.GreaterThan(1), "the start is far from the minimum");
        for (int step = 0; step < steps; step++)
        {
            x = p.Value.ToArray().Select(double.CreateChecked).ToArray();
            p.Grad.CopyFrom(Enumerable.Range(0, n).Select(i => T.CreateChecked(curvature[i] * (x[i] - target[i]))).ToArray());
            optimizer.Step(schedule);
        }
        return Loss(p.Value.ToArray().Select(double.CreateChecked).ToArray());
    }

    [Test]
    public void AdamMinimisesAQuadratic()
    {
        var schedule = new CosineSchedule(0.1, 1000, warmupSteps: 20);
        Assert.That(MinimiseQuadratic<double>(p => new Adam<double>([p]), 1000, schedule), Is.LessThan(1e-10));
        Assert.That(MinimiseQuadratic<float>(p => new Adam<float>([p]), 1000, schedule), Is.LessThan(1e-8));
    }

    [Test]
    public void AdamWMinimisesAQuadratic()
    {
        // Weight decay pulls towards 0, so the minimum moves; without decay AdamW is Adam.
        var schedule = new CosineSchedule(0.1, 1000, warmupSteps: 20);
        Assert.That(MinimiseQuadratic<double>(p => new AdamW<double>([p], new AdamWOptions { WeightDecay = 0 }), 1000, schedule), Is.LessThan(1e-10));
        Assert.That(MinimiseQuadratic<float>(p => new AdamW<float>([p], new AdamWOptions { WeightDecay = 0 }), 1000, schedule), Is.LessThan(1e-8));
    }

    /// <summary>
    /// With zero gradients only the decay acts. AdamW shrinks p by exactly (1 − lr·λ) per step; Adam's L2 decay goes through
    /// the moments, so its first step moves every entry by ≈ lr towards 0 whatever its size. NoWeightDecay parameters stay put.
    /// </summary>
    [Test]
    public void DecoupledAndL2WeightDecayDiffer()
    {
        using var device = new NativeCpuDevice();
        var start = new[] { 2.0, -0.5, 0.25 };
        const double lr = 0.01, decay = 0.1;
        using var pW = new Parameter<double>("p", device.FromArray(start, 3));
        using var bW = new Parameter<double>("b", device.FromArray(start, 3)) { NoWeightDecay = true };
        using var pA = new Parameter<double>("p", device.FromArray(start, 3));
        using var bA = new Parameter<double>("b", device.FromArray(start, 3)) { NoWeightDecay = true };
        using var adamW = new AdamW<double>([pW, bW], new AdamWOptions { LearningRate = lr, WeightDecay = decay });
        using var adam = new Adam<double>([pA, bA], new AdamOptions { LearningRate = lr, WeightDecay = decay });

        adam.Step();
        var afterOne = pA.Value.ToArray();
        for (int i = 0; i < 3; i++)
            Assert.That(afterOne[i], Is.EqualTo(start[i] - lr * Math.Sign(start[i])).Within(1e-8), "Adam + L2: a normalised step of size lr");
        for (int step = 1; step <= 5; step++)
        {
            adamW.Step();
            var expected = start.Select(x => x * Math.Pow(1 - lr * decay, step)).ToArray();
            Assert.That(pW.Value.ToArray(), Is.EqualTo(expected).Within(1e-14), $"AdamW shrink after {step} steps");
        }
        Assert.That(bW.Value.ToArray(), Is.EqualTo(start), "NoWeightDecay under AdamW");
        Assert.That(bA.Value.ToArray(), Is.EqualTo(start), "NoWeightDecay under Adam");
    }

    [Test]
    public void SgdWeightDecayRespectsNoWeightDecay()
    {
        using var device = new NativeCpuDevice();
        var start = new[] { 1.0, -2.0 };
        using var p = new Parameter<double>("p", device.FromArray(start, 2));
        using var b = new Parameter<double>("b", device.FromArray(start, 2)) { NoWeightDecay = true };
        using var sgd = new Sgd<double>([p, b], new SgdOptions { LearningRate = 0.1, WeightDecay = 0.5 });
        sgd.Step();
        Assert.That(p.Value.ToArray(), Is.EqualTo(new[] { 1.0 * 0.95, -2.0 * 0.95 }).Within(1e-15));
        Assert.That(b.Value.ToArray(), Is.EqualTo(start));
    }
}
