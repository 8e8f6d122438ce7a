using NUnit.Framework;
using OptEq.Autodiff.Data;
using OptEq.Autodiff.Models;
using OptEq.Autodiff.Optimizers;
using OptEq.Autodiff.Optimizers.Ddpn;
using OptEq.Autodiff.Optimizers.Schedules;
using OptEq.Autodiff.Training;
using OptEq.Kernels.Activations;
using OptEq.Kernels.Native;
using OptEq.Tests.Training;

namespace OptEq.Tests.Optimizers;

/// <summary>DDPNOpt (docs/math.md §6): the reduction to its base optimizer, the gains and value derivatives against a dense DDP step, no allocation.</summary>
[NonParallelizable]
public class DdpnTests
{
    private static ModelConfig MlpConfig(int input, int classes, int[] layers, Activation activation, int seed)
        => new() { Model = ModelKind.Mlp, Input = input, Classes = classes, Layers = layers, Activation = activation, Seed = seed };

    /// <summary>With the feedback off, training with ddpnopt over a base optimizer gives that optimizer's parameters bit for bit (float32).</summary>
    [TestCase(OptimizerKind.Adam)]
    [TestCase(OptimizerKind.Sgd)]
    [TestCase(OptimizerKind.Rmsprop)]
    public void WithoutFeedbackItIsItsBaseOptimizerBitForBit(OptimizerKind kind)
    {
        using var device = new NativeCpuDevice();
        var train = TrainerTests.Synthetic("train", 100, 1); // batch 32: the last batch is partial
        var test = TrainerTests.Synthetic("test", 30, 2);
        var baseOptions = new TrainingOptions { Epochs = 2, Batch = 32, LearningRate = 0.01, Seed = 3, AugmentShift = 1, Schedule = ScheduleSpec.Parse("cosine"), Optimizer = kind };
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
            Assert.That(a, Is.EqualTo(e), $"parameter {i} after 2 epochs of {kind} vs ddpnopt without feedback");
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
        using var step = new DdpnStep<double>(device, model, optimizer, new DdpnOptions { Base = OptimizerKind.Sgd, Epsilon = epsilon });
        using var images = device.FromArray(x0, n, 3);
        using var labelTensor = device.FromArray(labels, n);
        step.Run(images, labelTensor, new ConstantSchedule(lr));

        const double tol = 1e-12;
        for (int t = 0; t < 3; t++)
        {
            Assert.That(layers[2 * t].Grad.ToArray(), Is.EqualTo(dense.QuW[t]).Within(tol), $"Q_u (weight) of stage {t}");
            Assert.That(layers[2 * t + 1].Grad.ToArray(), Is.EqualTo(dense.QuB[t]).Within(tol), $"Q_u (bias) of stage {t}");
            Assert.That(layers[2 * t].Value.ToArray(), Is.EqualTo(dense.NewW[t]).Within(tol), $"u + k + K·δx (weight) of stage {t}");
            Assert.That(layers[2 * t + 1].Value.ToArray(), Is.EqualTo(dense.NewB[t]).Within(tol), $"u + k + K·δx (bias) of stage {t}");
        }
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
        // The feedback moved the upper layers: not the plain SGD step u − lr·Q_u.
        double feedback = 0;
        for (int t = 1; t < 3; t++)
            for (int i = 0; i < weights[t].Length; i++) feedback = Math.Max(feedback, Math.Abs(dense.NewW[t][i] - (weights[t][i] - lr * dense.QuW[t][i])));
        Assert.That(feedback, Is.GreaterThan(1e-4), "K·δx changes the update");
    }

    [Test]
    public void ATrainingStepWithFeedbackAllocatesNothingAfterWarmUp()
    {
        using var device = new NativeCpuDevice();
        var options = new TrainingOptions { Epochs = 2, Batch = 32, Optimizer = OptimizerKind.Ddpnopt, AugmentShift = 1 };
        var train = TrainerTests.Synthetic("train", 12 * options.Batch, 1);
        var test = TrainerTests.Synthetic("test", 30, 2);
        using var model = new Classifier<float>(device, MlpConfig(36, 3, [16, 16, 16], Activation.Tanh, 5));
        using var trainer = new Trainer(device, model, options, train, test);
        using var batches = trainer.Batches(epoch: 1).GetEnumerator();
        void Step()
        {
            if (!batches.MoveNext()) throw new InvalidOperationException("the epoch ended early");
            trainer.Step(batches.Current, epoch: 1);
        }
        // Each step is measured on its own: measured as one block of three calls, the test method itself was seen to
        // allocate 64 bytes between them (runtime call counting, it seems), which the plain Adam step shows as well.
        var bytes = new long[9];
        for (int i = 0; i < bytes.Length; i++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread(), workers = WorkerTeam.WorkerAllocatedBytes;
            Step();
            bytes[i] = GC.GetAllocatedBytesForCurrentThread() - before + (WorkerTeam.WorkerAllocatedBytes - workers);
        }
        Assert.That(bytes.Skip(3), Is.All.Zero, $"managed bytes per ddpnopt step, this thread and the worker team ({string.Join(", ", bytes)}); the first three warm up");
    }

    [Test]
    public void EquilibriumModelsAreRefusedClearly()
    {
        using var device = new NativeCpuDevice();
        var train = TrainerTests.Synthetic("train", 40, 1);
        using var model = new Classifier<float>(device, new ModelConfig { Input = 36, Classes = 3, Hidden = 8 });
        var e = Assert.Throws<NotSupportedException>(() => new Trainer(device, model, new TrainingOptions { Optimizer = OptimizerKind.Ddpnopt, Batch = 16 }, train, train).Dispose());
        Assert.That(e!.Message, Does.Contain("mlp").And.Contain("OptEqLayer"));
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
    }

    /// <summary>The dense DDP step of docs/math.md §6, with full per-sample Jacobians f_x, f_u and matrices Q_xx, Q_ux (no factorisation).</summary>
    private sealed class DenseDdp
    {
        public required int[] Widths;
        public required double[][] QuW, QuB, NewW, NewB, Vx, Shrink;
        public required double[][][,] Vxx;

        public static DenseDdp Step(double[][] w, double[][] b, int[] widths, double[] x0, int[] labels, double lr, double epsilon)
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
            // Terminal: V_x = (softmax − onehot)/N, V_xx = N·V_x·V_xᵀ (the Gauss–Newton outer product of the mean loss).
            var vx = new double[n][]; var vxx = new double[n][,];
            for (int s = 0; s < n; s++)
            {
                var z = xs[stages][s];
                double max = z.Max(), sum = z.Sum(v => Math.Exp(v - max));
                vx[s] = z.Select((v, j) => (Math.Exp(v - max) / sum - (j == labels[s] ? 1 : 0)) / n).ToArray();
                vxx[s] = Outer(vx[s], vx[s], n);
            }
            var result = new DenseDdp
            {
                Widths = widths, QuW = new double[stages][], QuB = new double[stages][], NewW = new double[stages][], NewB = new double[stages][],
                Vx = new double[stages][], Shrink = new double[stages][], Vxx = new double[stages][][,],
            };
            var k = new double[stages][];
            var gains = new double[stages][][,]; // K per sample [dim u, in]
            for (int t = stages - 1; t >= 0; t--)
            {
                int o = widths[t + 1], i = widths[t], du = o * (i + 1);
                var qu = new double[du];
                var qux = new double[n][,]; var qux0 = new double[n][,]; var qx = new double[n][]; var qxx = new double[n][,];
                var fus = new double[n][,];
                for (int s = 0; s < n; s++)
                {
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
                // SGD: M = I/lr. k = −M⁻¹Q_u, K = −M⁻¹Q_ux; V_x = Q_x − Q_xuM⁻¹Q_u; V_xx = Q_xx − Q_xuM⁻¹Q_ux (ε kept out of V_xx).
                k[t] = qu.Select(v => -lr * v).ToArray();
                gains[t] = qux.Select(m => Scale(m, -lr)).ToArray();
                result.QuW[t] = qu.Take(o * i).ToArray(); result.QuB[t] = qu.Skip(o * i).ToArray();
                var nextVx = new double[n][]; var nextVxx = new double[n][,];
                result.Shrink[t] = new double[n];
                for (int s = 0; s < n; s++)
                {
                    var quxT = Transpose(qux[s]);
                    nextVx[s] = qx[s].Zip(MatVec(quxT, qu.Select(v => lr * v).ToArray()), (p, q) => p - q).ToArray();
                    nextVxx[s] = Subtract(qxx[s], Scale(Mul(Transpose(qux0[s]), qux0[s]), lr));
                    // The factorised form's c = 1 − q_uᵀM⁻¹q_u, read off the traces: tr V_xx = c·tr Q_xx.
                    result.Shrink[t][s] = Trace(nextVxx[s]) / Trace(qxx[s]);
                }
                result.Vx[t] = nextVx.SelectMany(v => v).ToArray();
                result.Vxx[t] = nextVxx;
                vx = nextVx; vxx = nextVxx;
            }
            // Feedback forward pass: u ← u + k + Σₙ Kₙ·δxₙ, x̂_{t+1} = f(x̂_t, u).
            var xHat = xs[0];
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

        private static double[] Affine(double[] w, double[] b, double[] x, int o)
            => Enumerable.Range(0, o).Select(r => b[r] + x.Select((v, c) => w[r * x.Length + c] * v).Sum()).ToArray();
        private static double[,] Outer(double[] a, double[] b, double scale)
        {
            var m = new double[a.Length, b.Length];
            for (int i = 0; i < a.Length; i++) for (int j = 0; j < b.Length; j++) m[i, j] = scale * a[i] * b[j];
            return m;
        }
        private static double[,] Transpose(double[,] a)
        {
            var m = new double[a.GetLength(1), a.GetLength(0)];
            for (int i = 0; i < a.GetLength(0); i++) for (int j = 0; j < a.GetLength(1); j++) m[j, i] = a[i, j];
            return m;
        }
        private static double[,] Mul(double[,] a, double[,] b)
        {
            var m = new double[a.GetLength(0), b.GetLength(1)];
            for (int i = 0; i < a.GetLength(0); i++) for (int j = 0; j < b.GetLength(1); j++) for (int l = 0; l < a.GetLength(1); l++) m[i, j] += a[i, l] * b[l, j];
            return m;
        }
        private static double[] MatVec(double[,] a, double[] x)
        {
            var y = new double[a.GetLength(0)];
            for (int i = 0; i < a.GetLength(0); i++) for (int j = 0; j < a.GetLength(1); j++) y[i] += a[i, j] * x[j];
            return y;
        }
        private static double[,] Scale(double[,] a, double s)
        {
            var m = (double[,])a.Clone();
            for (int i = 0; i < a.GetLength(0); i++) for (int j = 0; j < a.GetLength(1); j++) m[i, j] *= s;
            return m;
        }
        private static double[,] Subtract(double[,] a, double[,] b)
        {
            var m = (double[,])a.Clone();
            for (int i = 0; i < a.GetLength(0); i++) for (int j = 0; j < a.GetLength(1); j++) m[i, j] -= b[i, j];
            return m;
        }
        private static double[,] AddIdentity(double[,] a, double e)
        {
            var m = (double[,])a.Clone();
            for (int i = 0; i < a.GetLength(0); i++) m[i, i] += e;
            return m;
        }
        private static double Trace(double[,] a) { double s = 0; for (int i = 0; i < a.GetLength(0); i++) s += a[i, i]; return s; }
    }
}
