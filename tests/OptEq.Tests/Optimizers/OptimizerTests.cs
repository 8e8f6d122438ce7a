using NUnit.Framework;
using OptEq.Autodiff;
using OptEq.Autodiff.Optimizers;
using OptEq.Autodiff.Optimizers.Schedules;
using OptEq.Kernels.Native;

namespace OptEq.Tests.Optimizers;

/// <summary>What every optimizer shares: hooks, state for checkpoints, learning rate and parameter checks.</summary>
public class OptimizerTests
{
    public enum Kind { Sgd, SgdNesterov, Adam, AdamW }

    private static Optimizer<double> Create(Kind kind, IEnumerable<Parameter<double>> parameters) => kind switch
    {
        Kind.Sgd => new Sgd<double>(parameters, new SgdOptions { LearningRate = 0.05, Momentum = 0.9, Dampening = 0.1, WeightDecay = 0.01 }),
        Kind.SgdNesterov => new Sgd<double>(parameters, new SgdOptions { LearningRate = 0.05, Momentum = 0.9, Nesterov = true, WeightDecay = 0.01 }),
        Kind.Adam => new Adam<double>(parameters, new AdamOptions { LearningRate = 0.01, WeightDecay = 0.01 }),
        _ => new AdamW<double>(parameters, new AdamWOptions { LearningRate = 0.01 }),
    };

    [TestCase(Kind.Sgd)]
    [TestCase(Kind.Adam)]
    public void AfterStepRunsOncePerStepAfterTheUpdate(Kind kind)
    {
        using var device = new NativeCpuDevice();
        using var p = new Parameter<double>("p", device.FromArray(new[] { 1.0, 2.0 }, 2));
        using var q = new Parameter<double>("q", device.FromArray(new[] { 3.0 }, 1));
        using var optimizer = Create(kind, [p, q]);
        var seen = new List<(int Step, double First)>();
        // A projection, as the implicit layer's: clamp to ≤ 1.5 after each step.
        p.AfterStep = param =>
        {
            seen.Add((optimizer.StepCount, param.Value.ToArray()[0]));
            param.Value.CopyFrom(param.Value.ToArray().Select(x => Math.Min(x, 1.5)).ToArray());
        };
        p.Grad.CopyFrom(new[] { -1.0, -1.0 });   // pushes p up
        optimizer.Step();
        optimizer.Step();
        Assert.That(seen.Select(s => s.Step), Is.EqualTo(new[] { 1, 2 }), "once per step, after the count");
        Assert.That(seen[0].First, Is.GreaterThan(1.0), "the hook sees the updated value");
        Assert.That(p.Value.ToArray()[1], Is.EqualTo(1.5), "the hook's projection holds");
    }

    /// <summary>Saving state after 4 steps and resuming into fresh objects gives the uninterrupted run's values bit for bit.</summary>
    [TestCase(Kind.Sgd)]
    [TestCase(Kind.SgdNesterov)]
    [TestCase(Kind.Adam)]
    [TestCase(Kind.AdamW)]
    public void RestoredStateResumesExactly(Kind kind)
    {
        using var device = new NativeCpuDevice();
        var start = new[] { TorchReference.Gaussian(new Random(1), 6), TorchReference.Gaussian(new Random(2), 3) };
        const int total = 10, saveAt = 4;

        // Gradients depend on the step and the current value, like a training loss.
        void SetGradients(Parameter<double>[] ps, int step)
        {
            foreach (var p in ps)
                p.Grad.CopyFrom(p.Value.ToArray().Select((x, i) => 0.7 * x - Math.Sin(step + i)).ToArray());
        }

        Parameter<double>[] Make() =>
        [
            new("w", device.FromArray(start[0], 2, 3)),
            new("b", device.FromArray(start[1], 3)) { NoWeightDecay = true },
        ];

        var uninterrupted = Make();
        using (var optimizer = Create(kind, uninterrupted))
            for (int step = 0; step < total; step++) { SetGradients(uninterrupted, step); optimizer.Step(); }

        var first = Make();
        Dictionary<string, double[]> saved;
        int savedSteps;
        double[][] savedValues;
        using (var optimizer = Create(kind, first))
        {
            for (int step = 0; step < saveAt; step++) { SetGradients(first, step); optimizer.Step(); }
            saved = optimizer.State().ToDictionary(s => s.Name, s => s.Tensor.ToArray());
            savedSteps = optimizer.StepCount;
            savedValues = first.Select(p => p.Value.ToArray()).ToArray();
        }

        var resumed = Make();
        for (int i = 0; i < resumed.Length; i++) resumed[i].Value.CopyFrom(savedValues[i]);
        using (var optimizer = Create(kind, resumed))
        {
            optimizer.Restore(savedSteps, saved);
            Assert.That(optimizer.StepCount, Is.EqualTo(saveAt));
            for (int step = saveAt; step < total; step++) { SetGradients(resumed, step); optimizer.Step(); }
        }

        for (int i = 0; i < resumed.Length; i++)
            Assert.That(resumed[i].Value.ToArray(), Is.EqualTo(uninterrupted[i].Value.ToArray()), resumed[i].Name);
        foreach (var p in uninterrupted.Concat(first).Concat(resumed)) p.Dispose();
    }

    [Test]
    public void RestoreRejectsMismatchedState()
    {
        using var device = new NativeCpuDevice();
        using var w = new Parameter<double>("w", device.Allocate<double>(4));
        using var adam = new Adam<double>([w]);
        var good = adam.State().ToDictionary(s => s.Name, s => new double[4]);
        Assert.That(() => adam.Restore(3, new Dictionary<string, double[]> { ["w.adam.m"] = new double[4] }),
            Throws.ArgumentException.With.Message.Contains("lacks 'w.adam.v'"));
        Assert.That(() => adam.Restore(3, new Dictionary<string, double[]>(good) { ["w.adam.m"] = new double[3] }),
            Throws.ArgumentException.With.Message.Contains("'w.adam.m' has 3 elements"));
        Assert.That(() => adam.Restore(3, new Dictionary<string, double[]>(good) { ["w.adamw.m"] = new double[4] }),
            Throws.ArgumentException.With.Message.Contains("unknown entries: w.adamw.m"));
        Assert.That(adam.StepCount, Is.EqualTo(0), "a failed restore changes nothing");
        adam.Restore(3, good);
        Assert.That(adam.StepCount, Is.EqualTo(3));
    }

    [Test]
    public void StepWithAScheduleSetsTheRateFromTheStepCount()
    {
        using var device = new NativeCpuDevice();
        using var p = new Parameter<double>("p", device.FromArray(new[] { 0.0 }, 1));
        using var sgd = new Sgd<double>([p]);
        var schedule = new StepDecaySchedule(1.0, every: 2, gamma: 0.5);
        p.Grad.CopyFrom(new[] { -1.0 });
        var rates = new List<double>();
        for (int i = 0; i < 5; i++) { sgd.Step(schedule); rates.Add(sgd.LearningRate); }
        Assert.That(rates, Is.EqualTo(new[] { 1.0, 1.0, 0.5, 0.5, 0.25 }));
        Assert.That(p.Value.ToArray()[0], Is.EqualTo(3.25), "each step used its own rate");
    }

    [Test]
    public void ZeroGradClearsEveryGradient()
    {
        using var device = new NativeCpuDevice();
        using var p = new Parameter<double>("p", device.Allocate<double>(3));
        using var q = new Parameter<double>("q", device.Allocate<double>(2));
        p.Grad.CopyFrom(new[] { 1.0, 2.0, 3.0 });
        q.Grad.CopyFrom(new[] { 4.0, 5.0 });
        using var adam = new Adam<double>([p, q]);
        adam.ZeroGrad();
        Assert.That(p.Grad.ToArray().Concat(q.Grad.ToArray()), Is.All.EqualTo(0.0));
    }

    [Test]
    public void ParameterListIsChecked()
    {
        using var device = new NativeCpuDevice();
        using var p = new Parameter<double>("p", device.Allocate<double>(3));
        using var other = new Parameter<double>("p", device.Allocate<double>(2));
        Assert.That(() => new Sgd<double>([]), Throws.ArgumentException.With.Message.Contains("at least one parameter"));
        Assert.That(() => new Adam<double>([p, other]), Throws.ArgumentException.With.Message.Contains("'p' appears more than once"));
        Assert.That(() => new Adam<double>([p, p]), Throws.ArgumentException.With.Message.Contains("'p' appears more than once"));
    }

    [Test]
    public void LearningRateAndStepCountAreChecked()
    {
        using var device = new NativeCpuDevice();
        using var p = new Parameter<double>("p", device.Allocate<double>(3));
        using var adam = new Adam<double>([p]);
        Assert.That(() => adam.LearningRate = -1e-3, Throws.TypeOf<ArgumentOutOfRangeException>()
            .With.Property("ParamName").EqualTo("LearningRate").And.Message.Contains("LearningRate must be finite and ≥ 0"));
        Assert.That(() => adam.LearningRate = double.NaN, Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("LearningRate"));
        Assert.That(() => adam.StepCount = -1, Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("StepCount"));
        Assert.That(adam.LearningRate, Is.EqualTo(1e-3), "unchanged by the rejected values");
    }
}
