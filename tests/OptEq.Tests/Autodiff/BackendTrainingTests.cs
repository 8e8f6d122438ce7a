using NUnit.Framework;
using OptEq.Autodiff;
using OptEq.Autodiff.Layers;
using OptEq.Autodiff.Optimizers;
using OptEq.Kernels;
using OptEq.Kernels.Activations;
using OptEq.Solvers;
using OptEq.Solvers.Problems;

namespace OptEq.Tests.Autodiff;

/// <summary>The same solver and training code on the native backend and on ILGPU's CPU accelerator (and CUDA when present).</summary>
public class BackendTrainingTests
{
    /// <summary>The non-native backends present (the native one is the reference, so comparing it with itself proves nothing).</summary>
    private static IEnumerable<string> Backends() => DeviceCatalog.Available().Where(d => d.Kind != DeviceKind.NativeCpu).Select(d => d.Id);

    [TestCaseSource(nameof(Backends))]
    public void SolversGiveTheNativeAnswerOnEveryBackend(string id)
    {
        using var native = DeviceCatalog.Open("cpu");
        using var device = DeviceCatalog.Open(id);
        // The ILGPU simulator costs about a millisecond per kernel launch: a few solvers, small problems.
        foreach (var kind in new[] { ForwardSolvers.Anderson, ForwardSolvers.Fista, ForwardSolvers.PeacemanRachford })
        {
            using var a = new SyntheticOptEq<float>(native, Activation.Tanh, 6, 24, 0.9, seed: 1);
            using var b = new SyntheticOptEq<float>(device, Activation.Tanh, 6, 24, 0.9, seed: 1);
            using var z0a = native.Allocate<float>(6, 24);
            using var z0b = device.Allocate<float>(6, 24);
            var options = new SolverOptions { Solver = kind, MaxIterations = 200, Tolerance = 1e-5 };
            using var ra = SolverRegistry.Solve(a.Map, z0a, options);
            using var rb = SolverRegistry.Solve(b.Map, z0b, options);
            Assert.That(rb.AllConverged, Is.True, $"{kind} on {id}: {string.Join(", ", rb.Status)}");
            var x = ra.Solution.ToArray(); var y = rb.Solution.ToArray();
            // Both converged to rel 1e-5 of a ρ = 0.9 contraction: within 10·1e-5·||z|| of the same fixed point.
            for (int i = 0; i < x.Length; i++) Assert.That(y[i], Is.EqualTo(x[i]).Within(1e-3), $"{kind} on {id}, element {i}");
        }
    }

    /// <summary>
    /// An OptEq layer and a linear head learn a synthetic 3-class task (classes from the sign pattern of two input
    /// coordinates) to a loss well below chance (ln 3 ≈ 1.10) in 25 Adam steps on the native backend.
    /// </summary>
    [Test]
    public void TinyModelTrainsToLowLoss()
    {
        using var device = DeviceCatalog.Open("cpu");
        var (losses, _) = Train(device, steps: 25);
        TestContext.Out.WriteLine($"cpu: loss {losses[0]:F3} → {losses[^1]:F3}");
        Assert.That(losses[0], Is.GreaterThan(0.9));
        Assert.That(losses[^1], Is.LessThan(0.3));
    }

    /// <summary>
    /// The same training on ILGPU's CPU accelerator follows the native run step for step (same seeds, same data): the
    /// losses and the parameters after 4 steps agree to float32 accuracy. The simulator costs about a millisecond per
    /// kernel launch, so the full 25-step run stays on the native backend and this test checks that ILGPU computes the
    /// same training rather than re-running it.
    /// </summary>
    [Test]
    public void IlgpuTrainingFollowsTheNativeRun()
    {
        using var native = DeviceCatalog.Open("cpu");
        using var ilgpu = DeviceCatalog.Open("ilgpu-cpu");
        var (a, pa) = Train(native, steps: 4);
        var (b, pb) = Train(ilgpu, steps: 4);
        for (int i = 0; i < a.Length; i++) Assert.That(b[i], Is.EqualTo(a[i]).Within(1e-4 * Math.Abs(a[i]) + 1e-5), $"loss at step {i}");
        for (int p = 0; p < pa.Length; p++)
            for (int i = 0; i < pa[p].Length; i++) Assert.That(pb[p][i], Is.EqualTo(pa[p][i]).Within(1e-4), $"parameter {p} entry {i}");
    }

    private static (float[] Losses, float[][] Parameters) Train(Device device, int steps)
    {
        const int batch = 48, input = 4, hidden = 12, classes = 3;
        var rng = new Random(3);
        var x = new float[batch * input];
        var labels = new int[batch];
        for (int s = 0; s < batch; s++)
        {
            for (int j = 0; j < input; j++) x[s * input + j] = (float)(rng.NextDouble() * 2 - 1);
            labels[s] = x[s * input] > 0 ? 0 : x[s * input + 1] > 0 ? 1 : 2;
        }
        using var xt = device.FromArray<float>(x, batch, input);
        using var yt = device.FromArray<int>(labels, batch);
        var init = new Random(4);
        using var layer = new OptEqLayer<float>(device, "opteq", new OptEqLayerOptions
        {
            Input = input, Hidden = hidden, Activation = Activation.ReLU, Gamma = 0.9,
            Forward = new SolverOptions { Solver = ForwardSolvers.Anderson, MaxIterations = 12, Tolerance = 1e-3, CheckEvery = 4 },
            Backward = new BackwardOptions { Adjoint = AdjointSolvers.ConjugateGradient, AdjointOptions = new SolverOptions { MaxIterations = 12, Tolerance = 1e-3, CheckEvery = 4 } },
        }, init);
        using var head = new Linear<float>(device, "head", hidden, classes, init);
        var parameters = layer.Parameters().Concat(head.Parameters()).ToList();
        using var optimizer = new Adam<float>(parameters, new AdamOptions { LearningRate = 0.08 });
        var losses = new float[steps];
        for (int step = 0; step < steps; step++)
        {
            optimizer.ZeroGrad();
            using var tape = new Tape<float>(device);
            var logits = head.Forward(layer.Forward(tape.Constant(xt)));
            var loss = Ops.SoftmaxCrossEntropy(logits, yt, out _);
            tape.Backward(loss);
            optimizer.Step();
            losses[step] = loss.Value.ToArray()[0];
        }
        return (losses, parameters.Select(p => p.Value.ToArray()).ToArray());
    }
}
