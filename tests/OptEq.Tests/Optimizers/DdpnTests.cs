using NUnit.Framework;
using OptEq.Autodiff;
using OptEq.Autodiff.Data;
using OptEq.Autodiff.Losses;
using OptEq.Autodiff.Models;
using OptEq.Autodiff.Optimizers;
using OptEq.Autodiff.Optimizers.Ddpn;
using OptEq.Autodiff.Optimizers.Schedules;
using OptEq.Autodiff.Training;
using OptEq.Kernels.Activations;
using OptEq.Kernels.Native;
using OptEq.Tests.Training;

using static OptEq.Tests.Optimizers.DenseMatrices;

namespace OptEq.Tests.Optimizers;

/// <summary>DDPNOpt (docs/math.md §6): the reduction to its base optimizer, the gains and value derivatives against a dense DDP step, no allocation.</summary>
[NonParallelizable]
public class DdpnTests
{
    private static ModelConfig MlpConfig(int input, int classes, int[] layers, Activation activation, int seed)
        => new() { Model = ModelKind.Mlp, Input = input, Classes = classes, Layers = layers, Activation = activation, Seed = seed };

    /// <summary>With the feedback off, training with ddpnopt over a base optimizer gives that optimizer's parameters bit for bit (float32).</summary>
    /// <remarks>Under the MMC loss (docs/math.md §7.9) as well: the terminal is the loss's gradient whichever loss it is.</remarks>
    [TestCase(OptimizerKind.Adam, "ce")]
    [TestCase(OptimizerKind.Sgd, "ce")]
    [TestCase(OptimizerKind.Rmsprop, "ce")]
    [TestCase(OptimizerKind.Adam, "mmc")]
    [TestCase(OptimizerKind.Sgd, "mmc:2")]
    public void WithoutFeedbackItIsItsBaseOptimizerBitForBit(OptimizerKind kind, string loss)
    {
        using var device = new NativeCpuDevice();
        var train = TrainerTests.Synthetic("train", 100, 1); // batch 32: the last batch is partial
        var test = TrainerTests.Synthetic("test", 30, 2);
        var baseOptions = new TrainingOptions
        {
            Epochs = 2, Batch = 32, LearningRate = 0.01, Seed = 3, AugmentShift = 1, Schedule = ScheduleSpec.Parse("cosine"), Optimizer = kind,
            Loss = ClassificationLoss.Parse(loss),
        };
        var ddpnOptions = baseOptions with { Optimizer = OptimizerKind.Ddpnopt, Ddpn = new DdpnOptions { Base = kind, Feedback = false } };
        float[][] Train(TrainingOptions options)
        {
            using var model = new Classifier<float>(device, MlpConfig(36, 3, [10, 7], Activation.ReLU, 5));
            using var trainer = new Trainer(device, model, options, train, test);
            trainer.Run();
            return model.Parameters().Select(p => p.Value.ToArray()).ToArray();
        }
        var expected = Train(baseOptions);
        var actual = Train(ddpnOptions);
        Assert.That(actual, Has.Length.EqualTo(expected.Length));
        for (int i = 0; i < expected.Length; i++)
        {
            var e = expected[i].Select(BitConverter.SingleToInt32Bits).ToArray();
            var a = actual[i].Select(BitConverter.SingleToInt32Bits).ToArray();
            Assert.That(a, Is.EqualTo(e), $"parameter {i} after 2 epochs of {kind} vs ddpnopt without feedback ({loss})");
        }
        Assert.That(expected[0].Distinct().Count(), Is.GreaterThan(10), "the parameters are not trivial");
    }

    /// <summary>
    /// One step on a 3-4-3-2 tanh network (float64, SGD base so that k = −M⁻¹Q_u): Q_u, V_x, V_xx = y·yᵀ and the new
    /// parameters u + k + Σₙ Kₙ·δxₙ match a dense DDP step written out with full Jacobians, for ε = 0 and ε &gt; 0.
    /// </summary>
    [TestCase(0.0)]
    [TestCase(0.25)]
    public void GainsAndValueDerivativesMatchADenseDdpStep(double epsilon)
    {
        using var device = new NativeCpuDevice();
        using var model = new Classifier<double>(device, MlpConfig(3, 2, [4, 3], Activation.Tanh, 11));
        const int n = 3;
        const double lr = 0.5;
        var rng = new Random(7);
        var x0 = Enumerable.Range(0, n * 3).Select(_ => 2 * rng.NextDouble() - 1).ToArray();
        int[] labels = [1, 0, 1];
        var layers = model.Parameters().ToArray(); // w0, b0, w1, b1, w2, b2
        var weights = Enumerable.Range(0, 3).Select(t => layers[2 * t].Value.ToArray()).ToArray();
        var biases = Enumerable.Range(0, 3).Select(t => layers[2 * t + 1].Value.ToArray()).ToArray();
        var dense = DenseDdp.Step(weights, biases, [3, 4, 3, 2], x0, labels, lr, epsilon);

        using var optimizer = new Sgd<double>(model.Parameters(), new SgdOptions { LearningRate = lr });
        using var step = new DdpnStep<double>(device, model, optimizer, new DdpnOptions { Base = OptimizerKind.Sgd, Epsilon = epsilon, Bound = 0 });
        using var images = device.FromArray(x0, n, 3);
        using var labelTensor = device.FromArray(labels, n);
        step.Run(images, labelTensor, new ConstantSchedule(lr));

        const double tol = 1e-12;
        AssertStageUpdates(layers, dense, tol);
        AssertValueFunction(step, dense, n, tol);
        // The feedback moved the upper layers: not the plain SGD step u − lr·Q_u.
        double feedback = 0;
        for (int t = 1; t < 3; t++)
            for (int i = 0; i < weights[t].Length; i++) feedback = Math.Max(feedback, Math.Abs(dense.NewW[t][i] - (weights[t][i] - lr * dense.QuW[t][i])));
        Assert.That(feedback, Is.GreaterThan(1e-4), "K·δx changes the update");
    }

    /// <summary>
    /// The dense DDP step under the MMC loss (docs/math.md §7.9): the terminal V_x = (f − μ_y)/N with V_xx its Gauss–Newton
    /// outer product, everything below as with the cross-entropy. One step on the 3-4-3-3 tanh network (float64, SGD
    /// base, centres of norm 2): Q_u, V_x, V_xx = y·yᵀ and the new parameters match, for ε = 0 and ε &gt; 0.
    /// </summary>
    [TestCase(0.0)]
    [TestCase(0.25)]
    public void UnderMmcGainsAndValueDerivativesMatchADenseDdpStep(double epsilon)
    {
        using var device = new NativeCpuDevice();
        using var model = new Classifier<double>(device, MlpConfig(3, 3, [4, 3], Activation.Tanh, 11));
        const int n = 3;
        const double lr = 0.05;
        var loss = ClassificationLoss.Mmc(2);
        var centres = loss.Centres(3);
        var rng = new Random(7);
        var x0 = Enumerable.Range(0, n * 3).Select(_ => 2 * rng.NextDouble() - 1).ToArray();
        int[] labels = [1, 0, 2];
        var layers = model.Parameters().ToArray();
        var weights = Enumerable.Range(0, 3).Select(t => layers[2 * t].Value.ToArray()).ToArray();
        var biases = Enumerable.Range(0, 3).Select(t => layers[2 * t + 1].Value.ToArray()).ToArray();
        var dense = DenseDdp.Step(weights, biases, [3, 4, 3, 3], x0, labels, lr, epsilon,
            lossGradient: (f, label) => f.Select((v, j) => v - centres[label * 3 + j]).ToArray());

        using var optimizer = new Sgd<double>(model.Parameters(), new SgdOptions { LearningRate = lr });
        using var step = new DdpnStep<double>(device, model, optimizer, new DdpnOptions { Base = OptimizerKind.Sgd, Epsilon = epsilon, Bound = 0 }, loss);
        using var images = device.FromArray(x0, n, 3);
        using var labelTensor = device.FromArray(labels, n);
        var (meanLoss, _) = step.Run(images, labelTensor, new ConstantSchedule(lr));
        Assert.That(meanLoss, Is.GreaterThan(0.5), "the MMC loss of an untrained network (the centres have norm 2)");

        const double tol = 1e-12;
        AssertStageUpdates(layers, dense, tol);
        AssertValueFunction(step, dense, n, tol);
        double feedback = 0;
        for (int t = 1; t < 3; t++)
            for (int i = 0; i < weights[t].Length; i++) feedback = Math.Max(feedback, Math.Abs(dense.NewW[t][i] - (weights[t][i] - lr * dense.QuW[t][i])));
        Assert.That(feedback, Is.GreaterThan(1e-5), "K·δx changes the update");
    }

    /// <summary>
    /// The same 3-4-3-2 tanh network with the K-FAC preconditioner (SGD base without momentum, one refresh): the natural
    /// gradient M⁻¹Q_u/lr, V_x, V_xx = y·yᵀ and the new parameters u + k + Σₙ Kₙ·δxₙ match the dense DDP step with
    /// M⁻¹ = lr·(A + γI)⁻¹ ⊗ (G + γI)⁻¹ written out as a [dim u, dim u] matrix, for ε = 0 and ε &gt; 0.
    /// </summary>
    [TestCase(0.0)]
    [TestCase(0.25)]
    public void KroneckerGainsAndValueDerivativesMatchADenseDdpStep(double epsilon)
    {
        using var device = new NativeCpuDevice();
        using var model = new Classifier<double>(device, MlpConfig(3, 2, [4, 3], Activation.Tanh, 11));
        const int n = 3;
        const double lr = 0.1, damping = 0.5;
        var rng = new Random(7);
        var x0 = Enumerable.Range(0, n * 3).Select(_ => 2 * rng.NextDouble() - 1).ToArray();
        int[] labels = [1, 0, 1];
        var layers = model.Parameters().ToArray();
        var weights = Enumerable.Range(0, 3).Select(t => layers[2 * t].Value.ToArray()).ToArray();
        var biases = Enumerable.Range(0, 3).Select(t => layers[2 * t + 1].Value.ToArray()).ToArray();
        var dense = DenseDdp.Step(weights, biases, [3, 4, 3, 2], x0, labels, lr, epsilon, (t, gs, xs) => DenseDdp.KroneckerInverse(gs, xs, lr, damping));

        using var optimizer = new Sgd<double>(model.Parameters(), new SgdOptions { LearningRate = lr });
        var options = new DdpnOptions { Base = OptimizerKind.Sgd, Preconditioner = DdpnPreconditioner.Kfac, Epsilon = epsilon, KfacDamping = damping, Bound = 0 };
        using var step = new DdpnStep<double>(device, model, optimizer, options);
        using var images = device.FromArray(x0, n, 3);
        using var labelTensor = device.FromArray(labels, n);
        step.Run(images, labelTensor, new ConstantSchedule(lr));

        const double tol = 1e-12;
        for (int t = 0; t < 3; t++)
        {
            // With K-FAC the gradient buffers end up holding the natural gradient (G + γI)⁻¹·Q_u·(A + γI)⁻¹ = M⁻¹Q_u / lr.
            var natural = dense.PreconditionedGradient[t].Select(v => v / lr).ToArray();
            int weightCount = weights[t].Length;
            Assert.That(layers[2 * t].Grad.ToArray(), Is.EqualTo(natural.Take(weightCount)).Within(tol), $"M⁻¹Q_u / lr (weight) of stage {t}");
            Assert.That(layers[2 * t + 1].Grad.ToArray(), Is.EqualTo(natural.Skip(weightCount)).Within(tol), $"M⁻¹Q_u / lr (bias) of stage {t}");
            Assert.That(layers[2 * t].Value.ToArray(), Is.EqualTo(dense.NewW[t]).Within(tol), $"u + k + K·δx (weight) of stage {t}");
            Assert.That(layers[2 * t + 1].Value.ToArray(), Is.EqualTo(dense.NewB[t]).Within(tol), $"u + k + K·δx (bias) of stage {t}");
        }
        AssertValueFunction(step, dense, n, tol);
        double feedback = 0;
        for (int t = 1; t < 3; t++)
            for (int i = 0; i < weights[t].Length; i++) feedback = Math.Max(feedback, Math.Abs(dense.NewW[t][i] - (weights[t][i] - dense.PreconditionedGradient[t][i])));
        Assert.That(feedback, Is.GreaterThan(1e-5), "K·δx changes the update");
    }

    /// <summary>
    /// The feedback bound: one step of a 36-16-16-16-3 ReLU network from the same start with the feedback off (the base
    /// step u + k), unbounded, and bounded by ρ = 0.1: on the head, whose Q_u and hence k do not depend on the feedback
    /// (the lower layers' Q_u do, through the modified V_x), the bounded step differs from u + k by at most ρ·|k| in every
    /// element, and the bound is active (the unbounded feedback exceeds it somewhere).
    /// </summary>
    // The feedback grows with lr relative to k (δx ∝ lr and K ∝ lr), so K-FAC's case, whose steps are smaller, takes a larger lr.
    [TestCase(OptimizerKind.Adam, null, 0.01)]
    [TestCase(OptimizerKind.Sgd, DdpnPreconditioner.Kfac, 0.3)]
    public void TheFeedbackBoundHoldsElementwise(OptimizerKind kind, DdpnPreconditioner? preconditioner, double lr)
    {
        using var device = new NativeCpuDevice();
        const double rho = 0.1;
        var rng = new Random(3);
        var x = Enumerable.Range(0, 32 * 36).Select(_ => (float)(2 * rng.NextDouble() - 1)).ToArray();
        var labels = Enumerable.Range(0, 32).Select(i => i % 3).ToArray();
        (float[][] Start, float[][] End) Step(bool feedback, double clip)
        {
            using var model = new Classifier<float>(device, MlpConfig(36, 3, [16, 16, 16], Activation.ReLU, 5));
            var start = model.Parameters().Select(p => p.Value.ToArray()).ToArray();
            using var optimizer = OptimizerFactory.Create<float>(kind, model.Parameters(), lr);
            var options = new DdpnOptions { Base = kind, Preconditioner = preconditioner, Feedback = feedback, Bound = clip };
            using var step = new DdpnStep<float>(device, model, optimizer, options);
            using var images = device.FromArray(x, 32, 36);
            using var labelTensor = device.FromArray(labels, 32);
            step.Run(images, labelTensor, new ConstantSchedule(lr));
            return (start, model.Parameters().Select(p => p.Value.ToArray()).ToArray());
        }
        var (start, open) = Step(false, 0);
        var (_, bounded) = Step(true, rho);
        var (_, unbounded) = Step(true, 0);
        bool active = false;
        for (int p = start.Length - 2; p < start.Length; p++) // the head's weight and bias
            for (int i = 0; i < start[p].Length; i++)
            {
                double k = Math.Abs(open[p][i] - start[p][i]);
                // float32: the base step and the feedback are rounded once more than in real arithmetic.
                Assert.That(Math.Abs(bounded[p][i] - open[p][i]), Is.LessThanOrEqualTo(rho * k * (1 + 1e-5) + 1e-6 * Math.Abs(open[p][i])), $"parameter {p}, element {i}");
                active |= Math.Abs(unbounded[p][i] - open[p][i]) > 1.01 * rho * k + 1e-6;
            }
        Assert.That(active, "the unbounded feedback exceeds ρ·|k| somewhere: the bound was tested where it acts");
    }

    /// <summary>
    /// With the feedback off, K-FAC DDPNOpt is a plain K-FAC natural-gradient step: two steps on two batches of a 5-6-4-3
    /// tanh network (float64, SGD without momentum) against the test's own float64 K-FAC (backprop, running averages
    /// A ← β·A + (1 − β)·X̄ᵀX̄/N, G ← β·G + (1 − β)·N·gᵀg, Gauss–Jordan inverses, W̄ ← W̄ − lr·(G + γI)⁻¹·∇·(A + γI)⁻¹). With a
    /// refresh interval of 2 the second step reuses the first step's inverses.
    /// </summary>
    [TestCase(1)]
    [TestCase(2)]
    public void WithoutFeedbackKfacIsANaturalGradientStep(int refresh)
    {
        using var device = new NativeCpuDevice();
        int[] widths = [5, 6, 4, 3];
        using var model = new Classifier<double>(device, MlpConfig(5, 3, [6, 4], Activation.Tanh, 13));
        const int n = 4;
        const double lr = 0.2, damping = 0.3, decay = 0.5;
        var rng = new Random(9);
        var batches = Enumerable.Range(0, 2).Select(_ => Enumerable.Range(0, n * 5).Select(_ => 2 * rng.NextDouble() - 1).ToArray()).ToArray();
        int[][] labels = [[0, 2, 1, 2], [1, 1, 0, 2]];
        var parameters = model.Parameters().ToArray();
        var w = Enumerable.Range(0, 3).Select(t => parameters[2 * t].Value.ToArray()).ToArray();
        var b = Enumerable.Range(0, 3).Select(t => parameters[2 * t + 1].Value.ToArray()).ToArray();

        using var optimizer = new Sgd<double>(model.Parameters(), new SgdOptions { LearningRate = lr });
        var options = new DdpnOptions { Base = OptimizerKind.Sgd, Preconditioner = DdpnPreconditioner.Kfac, Feedback = false, KfacDamping = damping, KfacDecay = decay, KfacRefresh = refresh };
        using var step = new DdpnStep<double>(device, model, optimizer, options);
        var a = new double[3][,]; var g = new double[3][,]; var aInv = new double[3][,]; var gInv = new double[3][,];
        for (int k = 0; k < 2; k++)
        {
            using var images = device.FromArray(batches[k], n, 5);
            using var labelTensor = device.FromArray(labels[k], n);
            step.Run(images, labelTensor, new ConstantSchedule(lr));

            // The reference: forward, backprop of the mean cross-entropy, factors, natural gradient, SGD step.
            var xs = new double[4][][]; var ds = new double[3][][];
            xs[0] = Enumerable.Range(0, n).Select(s => batches[k].Skip(s * 5).Take(5).ToArray()).ToArray();
            for (int t = 0; t < 3; t++)
            {
                xs[t + 1] = new double[n][]; ds[t] = new double[n][];
                for (int s = 0; s < n; s++)
                {
                    var pre = Enumerable.Range(0, widths[t + 1]).Select(r => b[t][r] + xs[t][s].Select((v, c) => w[t][r * widths[t] + c] * v).Sum()).ToArray();
                    xs[t + 1][s] = t == 2 ? pre : pre.Select(Math.Tanh).ToArray();
                    ds[t][s] = t == 2 ? pre.Select(_ => 1.0).ToArray() : pre.Select(v => 1 - Math.Tanh(v) * Math.Tanh(v)).ToArray();
                }
            }
            var v = xs[3].Select((z, s) =>
            {
                double max = z.Max(), sum = z.Sum(e => Math.Exp(e - max));
                return z.Select((e, j) => (Math.Exp(e - max) / sum - (j == labels[k][s] ? 1 : 0)) / n).ToArray();
            }).ToArray();
            var natural = new double[3][];
            for (int t = 2; t >= 0; t--)
            {
                int o = widths[t + 1], i = widths[t];
                var gs = v.Select((row, s) => row.Select((e, r) => e * ds[t][s][r]).ToArray()).ToArray();
                var grad = new double[o, i + 1];
                for (int s = 0; s < n; s++) for (int r = 0; r < o; r++) for (int c = 0; c <= i; c++) grad[r, c] += gs[s][r] * (c < i ? xs[t][s][c] : 1);
                if (k % refresh == 0)
                {
                    double beta = k == 0 ? 0 : decay;
                    var aBatch = new double[i + 1, i + 1]; var gBatch = new double[o, o];
                    for (int s = 0; s < n; s++)
                    {
                        for (int p = 0; p <= i; p++) for (int q = 0; q <= i; q++) aBatch[p, q] += (p < i ? xs[t][s][p] : 1) * (q < i ? xs[t][s][q] : 1) / n;
                        for (int p = 0; p < o; p++) for (int q = 0; q < o; q++) gBatch[p, q] += n * gs[s][p] * gs[s][q];
                    }
                    a[t] = Blend(a[t], aBatch, beta); g[t] = Blend(g[t], gBatch, beta);
                    aInv[t] = DenseDdp.Inverse(Damped(a[t], damping)); gInv[t] = DenseDdp.Inverse(Damped(g[t], damping));
                }
                var nat = Product(Product(gInv[t], grad), aInv[t]);
                natural[t] = new double[o * (i + 1)];
                for (int r = 0; r < o; r++) { for (int c = 0; c < i; c++) natural[t][r * i + c] = nat[r, c]; natural[t][o * i + r] = nat[r, i]; }
                // Backprop to the layer below (before this layer moves).
                if (t > 0) v = gs.Select(row => Enumerable.Range(0, i).Select(c => Enumerable.Range(0, o).Sum(r => row[r] * w[t][r * i + c])).ToArray()).ToArray();
            }
            for (int t = 0; t < 3; t++)
            {
                int o = widths[t + 1], i = widths[t];
                for (int j = 0; j < o * i; j++) w[t][j] -= lr * natural[t][j];
                for (int r = 0; r < o; r++) b[t][r] -= lr * natural[t][o * i + r];
                Assert.That(parameters[2 * t].Value.ToArray(), Is.EqualTo(w[t]).Within(1e-12), $"weight of stage {t} after step {k + 1}");
                Assert.That(parameters[2 * t + 1].Value.ToArray(), Is.EqualTo(b[t]).Within(1e-12), $"bias of stage {t} after step {k + 1}");
            }
        }
        Assert.That(w[0].Zip(model.Parameters().First().Value.ToArray()).Any(), "the network moved");

        static double[,] Blend(double[,]? old, double[,] batch, double beta)
        {
            var m = (double[,])batch.Clone();
            for (int p = 0; p < m.GetLength(0); p++) for (int q = 0; q < m.GetLength(1); q++) m[p, q] = beta * (old?[p, q] ?? 0) + (1 - beta) * batch[p, q];
            return m;
        }
        static double[,] Damped(double[,] m, double gamma)
        {
            var d = (double[,])m.Clone();
            for (int p = 0; p < d.GetLength(0); p++) d[p, p] += gamma;
            return d;
        }
        static double[,] Product(double[,] x, double[,] y)
        {
            var m = new double[x.GetLength(0), y.GetLength(1)];
            for (int p = 0; p < x.GetLength(0); p++) for (int q = 0; q < y.GetLength(1); q++) for (int l = 0; l < x.GetLength(1); l++) m[p, q] += x[p, l] * y[l, q];
            return m;
        }
    }

    [Test]
    public void AKfacTrainingStepWithFeedbackAllocatesNothingAfterWarmUp()
    {
        using var device = new NativeCpuDevice();
        var options = new TrainingOptions
        {
            Epochs = 2, Batch = 32, Optimizer = OptimizerKind.Ddpnopt, AugmentShift = 1, LearningRate = 0.001,
            Ddpn = new DdpnOptions { Base = OptimizerKind.Sgd, Preconditioner = DdpnPreconditioner.Kfac, KfacRefresh = 2 },
        };
        var train = TrainerTests.Synthetic("train", 16 * options.Batch, 1);
        var test = TrainerTests.Synthetic("test", 30, 2);
        using var model = new Classifier<float>(device, MlpConfig(36, 3, [16, 16, 16], Activation.Tanh, 5));
        using var trainer = new Trainer(device, model, options, train, test);
        // Rounds of two steps, so each round holds a refresh step (every second one): the factor GEMMs, the SPD inverses
        // and their status read allocate nothing either. A one-time allocation by the runtime passes; one per step fails.
        SteadyStateAllocation.AssertTrainingSteps(trainer, warmUp: 3, stepsPerRound: 2, "kfac ddpnopt training steps");
        Assert.That(model.Parameters().All(p => p.Value.ToArray().All(float.IsFinite)), "finite parameters");
    }

    [Test]
    public void ATrainingStepWithFeedbackAllocatesNothingAfterWarmUp()
    {
        using var device = new NativeCpuDevice();
        var options = new TrainingOptions { Epochs = 2, Batch = 32, Optimizer = OptimizerKind.Ddpnopt, AugmentShift = 1 };
        var train = TrainerTests.Synthetic("train", 16 * options.Batch, 1);
        var test = TrainerTests.Synthetic("test", 30, 2);
        using var model = new Classifier<float>(device, MlpConfig(36, 3, [16, 16, 16], Activation.Tanh, 5));
        using var trainer = new Trainer(device, model, options, train, test);
        // In rounds: a full-suite run once saw 3,088 bytes in one step after warm-up (6th of 9) and none in the others,
        // the runtime's one-time work by the look of it; an allocation per step would show in every round.
        SteadyStateAllocation.AssertTrainingSteps(trainer, warmUp: 3, stepsPerRound: 2, "ddpnopt training steps with feedback");
    }

    /// <summary>
    /// An equilibrium model (docs/math.md §6.7) without feedback: its head by DDPNOpt's own kernels, the injection and the
    /// equilibrium by the tape seeded with V_x at z*, every parameter stepped by the base optimizer — the same parameters
    /// bit for bit as the base optimizer's own training step (float32, two epochs with a partial last batch).
    /// </summary>
    [TestCase("opteq", OptimizerKind.Adam)]
    [TestCase("opteq", OptimizerKind.Sgd)]
    [TestCase("mon", OptimizerKind.Adam)]
    [TestCase("deep-opteq", OptimizerKind.Adam)]
    [TestCase("deq", OptimizerKind.Adam)]
    public void OnAnEquilibriumModelWithoutFeedbackItIsItsBaseOptimizerBitForBit(string kind, OptimizerKind optimizer)
    {
        using var device = new NativeCpuDevice();
        var train = TrainerTests.Synthetic("train", 100, 1);
        var test = TrainerTests.Synthetic("test", 30, 2);
        var baseOptions = new TrainingOptions { Epochs = 2, Batch = 32, LearningRate = 0.01, Seed = 3, Optimizer = optimizer };
        var ddpnOptions = baseOptions with { Optimizer = OptimizerKind.Ddpnopt, Ddpn = new DdpnOptions { Base = optimizer, Feedback = false } };
        var config = new ModelConfig { Model = ModelKind.Parse(kind), Input = 36, Classes = 3, Hidden = 8, Tiers = [6, 5], Seed = 5 };
        float[][] Train(TrainingOptions options)
        {
            using var model = new Classifier<float>(device, config);
            using var trainer = new Trainer(device, model, options, train, test);
            trainer.Run();
            return model.Parameters().Select(p => p.Value.ToArray()).ToArray();
        }
        var expected = Train(baseOptions);
        var actual = Train(ddpnOptions);
        Assert.That(actual, Has.Length.EqualTo(expected.Length));
        for (int i = 0; i < expected.Length; i++)
            Assert.That(actual[i].Select(BitConverter.SingleToInt32Bits), Is.EqualTo(expected[i].Select(BitConverter.SingleToInt32Bits)), $"parameter {i} after 2 epochs of {optimizer} vs ddpnopt without feedback on {kind}");
        Assert.That(expected[0].Distinct().Count(), Is.GreaterThan(10), "the parameters are not trivial");
    }

    /// <summary>
    /// One step with feedback on a tiny OptEq model (float64, SGD base, ε &gt; 0, no bound): the head's Q_u, V_x at z*, and
    /// its new parameters u + k + Σₙ Kₙ·(ẑ*ₙ − z*ₙ) match the dense DDP step of the head with x̂₀ = ẑ* (the equilibrium of
    /// the updated injection and weights); the injection's and the equilibrium's gradients are the tape's vector–Jacobian
    /// product of z* with seed V_x (the implicit adjoint), and they moved by the SGD step.
    /// </summary>
    [Test]
    public void OnOptEqTheHeadMatchesADenseDdpStepAndTheImplicitPartGetsTheAdjointOfVx()
    {
        using var device = new NativeCpuDevice();
        var config = new ModelConfig { Model = ModelKind.OptEq, Input = 3, Classes = 2, Hidden = 4, Seed = 11 };
        using var model = new Classifier<double>(device, config);
        using var twin = new Classifier<double>(device, config);
        const int n = 3, hidden = 4;
        const double lr = 0.5, epsilon = 0.25;
        var rng = new Random(7);
        var x0 = Enumerable.Range(0, n * 3).Select(_ => 2 * rng.NextDouble() - 1).ToArray();
        int[] labels = [1, 0, 1];
        using var images = device.FromArray(x0, n, 3);
        using var labelTensor = device.FromArray(labels, n);
        double[] Equilibrium(Classifier<double> m)
        {
            using var tape = Tape<double>.NoGrad(device);
            return m.Layers[0].Forward(tape.Constant(images)).Value.ToArray();
        }
        var head = (OptEq.Autodiff.Layers.Linear<double>)model.Layers[1];
        var w = head.Weight.Value.ToArray();
        var b = head.Bias!.Value.ToArray();
        var zStar = Equilibrium(model);
        var prefixBefore = model.Layers[0].Parameters().Select(p => p.Value.ToArray()).ToArray();

        using var optimizer = new Sgd<double>(model.Parameters(), new SgdOptions { LearningRate = lr });
        using var step = new DdpnStep<double>(device, model, optimizer, new DdpnOptions { Base = OptimizerKind.Sgd, Epsilon = epsilon, Bound = 0 });
        Assert.That(step.HasImplicitPrefix && step.Stages == 1);
        step.Run(images, labelTensor, new ConstantSchedule(lr));
        var zHat = Equilibrium(model);
        var dense = DenseDdp.Step([w], [b], [hidden, 2], zStar, labels, lr, epsilon, newX0: zHat);

        const double tol = 1e-12;
        Assert.That(head.Weight.Grad.ToArray(), Is.EqualTo(dense.QuW[0]).Within(tol), "Q_u (weight) of the head");
        Assert.That(head.Bias.Grad.ToArray(), Is.EqualTo(dense.QuB[0]).Within(tol), "Q_u (bias) of the head");
        Assert.That(step.ValueGradient(0).ToArray(), Is.EqualTo(dense.Vx[0]).Within(tol), "V_x at z*");
        Assert.That(head.Weight.Value.ToArray(), Is.EqualTo(dense.NewW[0]).Within(tol), "u + k + K·δx (weight) of the head");
        Assert.That(head.Bias.Value.ToArray(), Is.EqualTo(dense.NewB[0]).Within(tol), "u + k + K·δx (bias) of the head");
        double feedback = 0;
        for (int i = 0; i < w.Length; i++) feedback = Math.Max(feedback, Math.Abs(dense.NewW[0][i] - (w[i] - lr * dense.QuW[0][i])));
        Assert.That(feedback, Is.GreaterThan(1e-6), "K·(ẑ* − z*) changes the head's update");
        Assert.That(zHat.Zip(zStar, (p, q) => Math.Abs(p - q)).Max(), Is.GreaterThan(1e-6), "the equilibrium moved");

        // The implicit part: the tape's VJP of z* with seed V_x, on an untouched twin of the model.
        using (var tape = new Tape<double>(device))
        {
            var z = twin.Layers[0].Forward(tape.Constant(images));
            using var seed = device.FromArray(dense.Vx[0], n, hidden);
            tape.Backward(z, seed);
        }
        var prefix = model.Layers[0].Parameters().ToArray();
        var twinPrefix = twin.Layers[0].Parameters().ToArray();
        for (int i = 0; i < prefix.Length; i++)
        {
            var g = twinPrefix[i].Grad.ToArray();
            Assert.That(prefix[i].Grad.ToArray(), Is.EqualTo(g).Within(1e-12), $"Q_u of {prefix[i].Name}: the adjoint of V_x");
            Assert.That(prefix[i].Value.ToArray(), Is.EqualTo(prefixBefore[i].Zip(g, (u, q) => u - lr * q)).Within(1e-12), $"{prefix[i].Name} moved by the SGD step");
            Assert.That(g.Max(Math.Abs), Is.GreaterThan(1e-8), $"{prefix[i].Name} has a gradient");
        }
    }

    [Test]
    public void AnOptEqTrainingStepWithFeedbackAllocatesNothingAfterWarmUp()
    {
        using var device = new NativeCpuDevice();
        var options = new TrainingOptions { Epochs = 2, Batch = 32, Optimizer = OptimizerKind.Ddpnopt, AugmentShift = 1 };
        var train = TrainerTests.Synthetic("train", 16 * options.Batch, 1);
        var test = TrainerTests.Synthetic("test", 30, 2);
        using var model = new Classifier<float>(device, new ModelConfig { Input = 36, Classes = 3, Hidden = 16, Seed = 5 });
        using var trainer = new Trainer(device, model, options, train, test);
        // In rounds of two steps (at most five): a one-time allocation by the runtime passes, one per step fails.
        SteadyStateAllocation.AssertTrainingSteps(trainer, warmUp: 3, stepsPerRound: 2, "opteq ddpnopt training steps");
        Assert.That(model.Parameters().All(p => p.Value.ToArray().All(float.IsFinite)), "finite parameters");
    }

    [Test]
    public void AnEquilibriumModelWithoutALinearHeadIsRefusedClearly()
    {
        using var device = new NativeCpuDevice();
        var train = TrainerTests.Synthetic("train", 40, 1);
        var spec = new ModelSpec { Input = 36, Layers = [new LinearSpec { Name = "in", Output = 3 }, new OptEqSpec { Name = "eq", Hidden = 3 }] };
        using var model = new Classifier<float>(device, new ModelConfig { Input = 36, Classes = 3, Spec = spec });
        var e = Assert.Throws<NotSupportedException>(() => new Trainer(device, model, new TrainingOptions { Optimizer = OptimizerKind.Ddpnopt, Batch = 16 }, train, train).Dispose());
        Assert.That(e!.Message, Does.Contain("linear head"));
    }

    [Test]
    public void TheCheckpointRecordKeepsTheDdpnOptions()
    {
        var kfac = new TrainingOptions { Optimizer = OptimizerKind.Ddpnopt, Ddpn = new DdpnOptions { Base = OptimizerKind.Sgd, Preconditioner = DdpnPreconditioner.Kfac, KfacRefresh = 5 } };
        var record = TrainingRecord.Of(kfac, "fingerprint");
        Assert.That(record.Ddpn, Is.EqualTo("base sgd, precond kfac, epsilon 0.001, feedback true, bound 0.3, kfac-damping 0.1, kfac-decay 0.95, kfac-refresh 5"));
        var restored = TrainingRecord.FromJson(record.ToJson(), "test");
        Assert.That(restored.Ddpn, Is.EqualTo(record.Ddpn), "round trip through the checkpoint's JSON");
        var adam = TrainingRecord.Of(kfac with { Ddpn = new DdpnOptions() }, "fingerprint");
        Assert.That(restored.Differences(adam), Has.Some.Contains("--ddpn-* options").And.Some.Contains("precond kfac"));
        Assert.That(TrainingRecord.Of(new TrainingOptions(), "fingerprint").Ddpn, Is.Null, "recorded only for ddpnopt");
        // A checkpoint written before the field existed reads back with no ddpn options, and is not reported as different.
        var old = TrainingRecord.FromJson(record.ToJson().Replace($",\"ddpn\":\"{record.Ddpn}\"", ""), "test");
        Assert.That(old.Ddpn, Is.Null);
        Assert.That(old.Differences(adam), Is.Empty);
    }

    [Test]
    public void OptionsAndNamesAreChecked()
    {
        Assert.That(OptimizerFactory.Parse("ddpnopt"), Is.EqualTo(OptimizerKind.Ddpnopt));
        Assert.That(OptimizerFactory.Parse("RMSprop"), Is.EqualTo(OptimizerKind.Rmsprop));
        Assert.That(DdpnOptions.ParseBase("sgd"), Is.EqualTo(OptimizerKind.Sgd));
        Assert.That(() => DdpnOptions.ParseBase("adamw"), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("sgd, rmsprop or adam"));
        Assert.That(() => new DdpnOptions { Epsilon = -1 }, Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("Epsilon"));
        Assert.That(() => OptimizerFactory.Create<float>(OptimizerKind.Ddpnopt, [], 0.1), Throws.ArgumentException.With.Message.Contains("training step"));
        Assert.That(DdpnOptions.ParsePreconditioner("KFAC"), Is.EqualTo(DdpnPreconditioner.Kfac));
        Assert.That(() => DdpnOptions.ParsePreconditioner("shampoo"), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("identity, diagonal or kfac"));
        Assert.That(new DdpnOptions { Base = OptimizerKind.Rmsprop }.EffectivePreconditioner, Is.EqualTo(DdpnPreconditioner.Diagonal));
        Assert.That(() => new DdpnOptions { Base = OptimizerKind.Adam, Preconditioner = DdpnPreconditioner.Kfac }.Validate(),
            Throws.ArgumentException.With.Message.Contains("kfac preconditioner needs the base optimizer sgd"));
        Assert.That(() => new DdpnOptions { Base = OptimizerKind.Sgd, Preconditioner = DdpnPreconditioner.Diagonal }.Validate(),
            Throws.ArgumentException.With.Message.Contains("rmsprop or adam"));
        Assert.That(() => new DdpnOptions { KfacDamping = 0 }, Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("damping"));
        Assert.That(() => new DdpnOptions { KfacDecay = 1 }, Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("decay"));
        Assert.That(() => new DdpnOptions { KfacRefresh = 0 }, Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("refresh"));
        Assert.That(new DdpnOptions { Base = OptimizerKind.Sgd, Preconditioner = DdpnPreconditioner.Kfac }.Describe(),
            Is.EqualTo("base sgd, precond kfac, epsilon 0.001, feedback true, bound 0.3, kfac-damping 0.1, kfac-decay 0.95, kfac-refresh 10"));
    }

    /// <summary>The dense DDP step of docs/math.md §6, with full per-sample Jacobians f_x, f_u and matrices Q_xx, Q_ux (no factorisation).</summary>
    /// <summary>Each stage's Q_u (the gradient buffers) and new parameters u + k + K·δx against the dense step (identity preconditioner).</summary>
    private static void AssertStageUpdates(Parameter<double>[] layers, DenseDdp dense, double tol)
    {
        for (int t = 0; t < 3; t++)
        {
            Assert.That(layers[2 * t].Grad.ToArray(), Is.EqualTo(dense.QuW[t]).Within(tol), $"Q_u (weight) of stage {t}");
            Assert.That(layers[2 * t + 1].Grad.ToArray(), Is.EqualTo(dense.QuB[t]).Within(tol), $"Q_u (bias) of stage {t}");
            Assert.That(layers[2 * t].Value.ToArray(), Is.EqualTo(dense.NewW[t]).Within(tol), $"u + k + K·δx (weight) of stage {t}");
            Assert.That(layers[2 * t + 1].Value.ToArray(), Is.EqualTo(dense.NewB[t]).Within(tol), $"u + k + K·δx (bias) of stage {t}");
        }
    }

    /// <summary>V_x, the rank-one factors of V_xx (per sample) and the unclamped shrink factors at the inputs of stages 1 and 2, against the dense step.</summary>
    private static void AssertValueFunction(DdpnStep<double> step, DenseDdp dense, int n, double tol)
    {
        for (int t = 1; t < 3; t++)
        {
            Assert.That(step.ValueGradient(t).ToArray(), Is.EqualTo(dense.Vx[t]).Within(tol), $"V_x at the input of stage {t}");
            var y = step.ValueHessianFactor(t).ToArray();
            int width = dense.Widths[t];
            for (int s = 0; s < n; s++)
                for (int i = 0; i < width; i++)
                    for (int j = 0; j < width; j++)
                        Assert.That(y[s * width + i] * y[s * width + j], Is.EqualTo(dense.Vxx[t][s][i, j]).Within(tol), $"V_xx[{i},{j}] of sample {s} at stage {t}");
            Assert.That(dense.Shrink[t].All(c => c > 0 && c < 1), $"stage {t}: 1 − q_uᵀM⁻¹q_u in (0, 1) (not clamped): {string.Join(", ", dense.Shrink[t])}");
        }
    }

    private sealed class DenseDdp
    {
        public required int[] Widths;
        public required double[][] QuW, QuB, NewW, NewB, Vx, Shrink;
        /// <summary>M⁻¹Q_u per stage (W row-major, then b): −k.</summary>
        public required double[][] PreconditionedGradient;
        public required double[][][,] Vxx;

        /// <summary>
        /// <paramref name="inverse"/> gives M⁻¹ [dim u, dim u] of stage t from (t, the per-sample backprop vectors
        /// gₙ = d ⊙ V′_xⁿ, the per-sample inputs); null: the identity preconditioner lr·I.
        /// </summary>
        /// <paramref name="newX0"/>: the new state x̂₀ at the first stage's input (null: x₀, the data, δx₀ = 0); an
        /// equilibrium model's head sees ẑ* there.
        public static DenseDdp Step(double[][] w, double[][] b, int[] widths, double[] x0, int[] labels, double lr, double epsilon,
            Func<int, double[][], double[][], double[,]>? inverse = null, double[]? newX0 = null, Func<double[], int, double[]>? lossGradient = null)
        {
            int stages = w.Length, n = labels.Length;
            // Forward: xs[t][s] is the input of stage t for sample s; ds[t][s] is σ′ (1 for the head).
            var xs = new double[stages + 1][][];
            var ds = new double[stages][][];
            xs[0] = Enumerable.Range(0, n).Select(s => x0.Skip(s * widths[0]).Take(widths[0]).ToArray()).ToArray();
            for (int t = 0; t < stages; t++)
            {
                xs[t + 1] = new double[n][]; ds[t] = new double[n][];
                for (int s = 0; s < n; s++)
                {
                    var a = Affine(w[t], b[t], xs[t][s], widths[t + 1]);
                    bool head = t == stages - 1;
                    xs[t + 1][s] = head ? a : a.Select(Math.Tanh).ToArray();
                    ds[t][s] = head ? a.Select(_ => 1.0).ToArray() : a.Select(v => 1 - Math.Tanh(v) * Math.Tanh(v)).ToArray();
                }
            }
            // Terminal: V_x = ∇ℓ/N (default ℓ the cross-entropy: ∇ℓ = softmax − onehot), V_xx = N·V_x·V_xᵀ (the Gauss–Newton
            // outer product of the mean loss).
            lossGradient ??= (z, label) =>
            {
                double max = z.Max(), sum = z.Sum(v => Math.Exp(v - max));
                return z.Select((v, j) => Math.Exp(v - max) / sum - (j == label ? 1 : 0)).ToArray();
            };
            var vx = new double[n][]; var vxx = new double[n][,];
            for (int s = 0; s < n; s++)
            {
                vx[s] = lossGradient(xs[stages][s], labels[s]).Select(v => v / n).ToArray();
                vxx[s] = Outer(vx[s], vx[s], n);
            }
            var result = new DenseDdp
            {
                Widths = widths, QuW = new double[stages][], QuB = new double[stages][], NewW = new double[stages][], NewB = new double[stages][],
                Vx = new double[stages][], Shrink = new double[stages][], Vxx = new double[stages][][,], PreconditionedGradient = new double[stages][],
            };
            var k = new double[stages][];
            var gains = new double[stages][][,]; // K per sample [dim u, in]
            for (int t = stages - 1; t >= 0; t--)
            {
                int o = widths[t + 1], i = widths[t], du = o * (i + 1);
                var qu = new double[du];
                var qux = new double[n][,]; var qux0 = new double[n][,]; var qx = new double[n][]; var qxx = new double[n][,];
                var fus = new double[n][,];
                var gs = new double[n][];
                for (int s = 0; s < n; s++)
                {
                    gs[s] = ds[t][s].Zip(vx[s], (d, v) => d * v).ToArray();
                    var fx = new double[o, i]; var fu = new double[o, du];
                    for (int r = 0; r < o; r++)
                    {
                        for (int c = 0; c < i; c++) { fx[r, c] = ds[t][s][r] * w[t][r * i + c]; fu[r, r * i + c] = ds[t][s][r] * xs[t][s][c]; }
                        fu[r, o * i + r] = ds[t][s][r];
                    }
                    fus[s] = fu;
                    var fuT = Transpose(fu); var fxT = Transpose(fx);
                    var g = MatVec(fuT, vx[s]);
                    for (int j = 0; j < du; j++) qu[j] += g[j];
                    qx[s] = MatVec(fxT, vx[s]);
                    qxx[s] = Mul(Mul(fxT, vxx[s]), fx);
                    qux0[s] = Mul(Mul(fuT, vxx[s]), fx);
                    qux[s] = Mul(Mul(fuT, AddIdentity(vxx[s], epsilon)), fx);
                }
                // k = −M⁻¹Q_u, K = −M⁻¹Q_ux; V_x = Q_x − Q_xuM⁻¹Q_u; V_xx = Q_xx − Q_xuM⁻¹Q_ux (ε kept out of V_xx).
                var minv = inverse?.Invoke(t, gs, xs[t]) ?? Scale(AddIdentity(new double[du, du], 1), lr);
                var step = MatVec(minv, qu);
                result.PreconditionedGradient[t] = step;
                k[t] = step.Select(v => -v).ToArray();
                gains[t] = qux.Select(m => Scale(Mul(minv, m), -1)).ToArray();
                result.QuW[t] = qu.Take(o * i).ToArray(); result.QuB[t] = qu.Skip(o * i).ToArray();
                var nextVx = new double[n][]; var nextVxx = new double[n][,];
                result.Shrink[t] = new double[n];
                for (int s = 0; s < n; s++)
                {
                    var quxT = Transpose(qux[s]);
                    nextVx[s] = qx[s].Zip(MatVec(quxT, step), (p, q) => p - q).ToArray();
                    nextVxx[s] = Subtract(qxx[s], Mul(Mul(Transpose(qux0[s]), minv), qux0[s]));
                    // The factorised form's c = 1 − q_uᵀM⁻¹q_u, read off the traces: tr V_xx = c·tr Q_xx.
                    result.Shrink[t][s] = Trace(nextVxx[s]) / Trace(qxx[s]);
                }
                result.Vx[t] = nextVx.SelectMany(v => v).ToArray();
                result.Vxx[t] = nextVxx;
                vx = nextVx; vxx = nextVxx;
            }
            // Feedback forward pass: u ← u + k + Σₙ Kₙ·δxₙ, x̂_{t+1} = f(x̂_t, u).
            var xHat = newX0 is null ? xs[0] : Enumerable.Range(0, n).Select(s => newX0.Skip(s * widths[0]).Take(widths[0]).ToArray()).ToArray();
            for (int t = 0; t < stages; t++)
            {
                int o = widths[t + 1], i = widths[t], du = o * (i + 1);
                var u = w[t].Concat(b[t]).ToArray();
                for (int j = 0; j < du; j++) u[j] += k[t][j];
                for (int s = 0; s < n; s++)
                {
                    var dx = xHat[s].Zip(xs[t][s], (p, q) => p - q).ToArray();
                    var kdx = MatVec(gains[t][s], dx);
                    for (int j = 0; j < du; j++) u[j] += kdx[j];
                }
                result.NewW[t] = u.Take(o * i).ToArray(); result.NewB[t] = u.Skip(o * i).ToArray();
                bool head = t == stages - 1;
                xHat = xHat.Select(x => { var a = Affine(result.NewW[t], result.NewB[t], x, o); return head ? a : a.Select(Math.Tanh).ToArray(); }).ToArray();
            }
            return result;
        }

        /// <summary>Gauss–Jordan inverse with partial pivoting (the test's own, independent of the SPD kernels).</summary>
        public static double[,] Inverse(double[,] a)
        {
            int n = a.GetLength(0);
            var m = (double[,])a.Clone();
            var inv = AddIdentity(new double[n, n], 1);
            for (int c = 0; c < n; c++)
            {
                int p = c;
                for (int r = c + 1; r < n; r++) if (Math.Abs(m[r, c]) > Math.Abs(m[p, c])) p = r;
                for (int j = 0; j < n; j++) { (m[c, j], m[p, j]) = (m[p, j], m[c, j]); (inv[c, j], inv[p, j]) = (inv[p, j], inv[c, j]); }
                double d = m[c, c];
                for (int j = 0; j < n; j++) { m[c, j] /= d; inv[c, j] /= d; }
                for (int r = 0; r < n; r++)
                {
                    if (r == c) continue;
                    double f = m[r, c];
                    for (int j = 0; j < n; j++) { m[r, j] -= f * m[c, j]; inv[r, j] -= f * inv[c, j]; }
                }
            }
            return inv;
        }

        /// <summary>
        /// K-FAC's M⁻¹ = lr·(A + γI)⁻¹ ⊗ (G + γI)⁻¹ in the parameter order (W row-major, then b), with A = (1/N)Σ x̄x̄ᵀ and
        /// G = N·Σ g gᵀ from this batch (one refresh, no history).
        /// </summary>
        public static double[,] KroneckerInverse(double[][] gs, double[][] xs, double lr, double damping)
        {
            int n = gs.Length, o = gs[0].Length, i = xs[0].Length, du = o * (i + 1);
            var a = new double[i + 1, i + 1]; var g = new double[o, o];
            foreach (var x in xs)
                for (int p = 0; p <= i; p++) for (int q = 0; q <= i; q++) a[p, q] += (p < i ? x[p] : 1) * (q < i ? x[q] : 1) / n;
            foreach (var v in gs)
                for (int p = 0; p < o; p++) for (int q = 0; q < o; q++) g[p, q] += n * v[p] * v[q];
            var aInv = Inverse(AddIdentity(a, damping)); var gInv = Inverse(AddIdentity(g, damping));
            int Index(int r, int c) => c < i ? r * i + c : o * i + r;
            var m = new double[du, du];
            for (int r = 0; r < o; r++) for (int c = 0; c <= i; c++)
                for (int r2 = 0; r2 < o; r2++) for (int c2 = 0; c2 <= i; c2++)
                    m[Index(r, c), Index(r2, c2)] = lr * gInv[r, r2] * aInv[c, c2];
            return m;
        }

        private static double[] Affine(double[] w, double[] b, double[] x, int o)
            => Enumerable.Range(0, o).Select(r => b[r] + x.Select((v, c) => w[r * x.Length + c] * v).Sum()).ToArray();
    }
}
