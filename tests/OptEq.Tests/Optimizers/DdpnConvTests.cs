using NUnit.Framework;
using OptEq.Autodiff;
using OptEq.Autodiff.Layers;
using OptEq.Autodiff.Models;
using OptEq.Autodiff.Optimizers;
using OptEq.Autodiff.Optimizers.Ddpn;
using OptEq.Autodiff.Optimizers.Schedules;
using OptEq.Autodiff.Training;
using OptEq.Kernels;
using OptEq.Kernels.Activations;
using OptEq.Kernels.Native;
using OptEq.Kernels.Reference;
using OptEq.Tests.Training;

using static OptEq.Tests.Optimizers.DenseMatrices;

namespace OptEq.Tests.Optimizers;

/// <summary>
/// DDPNOpt's convolution and pooling stages (docs/math.md §6.8) on the cnn model: the gains and value derivatives against a
/// dense DDP step with full Jacobians, the reduction to the base optimizer, no allocation, and the backends agreeing.
/// </summary>
[NonParallelizable]
public class DdpnConvTests
{
    private static ModelConfig CnnConfig(int input, int classes, int[] channels, Activation activation, int seed, int pool = 2) => new()
    {
        Model = ModelKind.Cnn, Input = input, Classes = classes, Activation = activation, Seed = seed,
        Conv = new ConvModelOptions { Channels = channels, KernelSize = 3, InjectionStride = 1, Pool = pool },
    };

    [Test]
    public void TheCnnRecipeStacksConvolutionActivationAndPoolingPerChannelCount()
    {
        var layers = CnnConfig(25, 3, [2, 4], Activation.ReLU, 1).Spec.Layers;
        Assert.That(layers.Select(l => l.GetType().Name), Is.EqualTo(new[]
        {
            nameof(Conv2dSpec), nameof(ActivationSpec), nameof(AvgPool2dSpec), nameof(Conv2dSpec), nameof(ActivationSpec), nameof(AvgPool2dSpec), nameof(LinearSpec),
        }));
        var spec = CnnConfig(25, 3, [2, 4], Activation.ReLU, 1).Spec;
        spec.Validate();
        // 1×5×5 → conv (same) 2×5×5 → pool 2×2×2 → conv 4×2×2 → pool 4×1×1 → 3 classes.
        Assert.That(((Conv2dSpec)layers[3]).Geometry.InputSize, Is.EqualTo(8));
        Assert.That(layers[5].OutputSize(16), Is.EqualTo(4));
        Assert.That(spec.Output, Is.EqualTo(3));
        var strided = CnnConfig(36, 3, [2], Activation.ReLU, 1) with { Conv = new ConvModelOptions { Channels = [2], InjectionStride = 2, Pool = 1 } };
        Assert.That(((Conv2dSpec)strided.Spec.Layers[0]).Geometry.OutputSize, Is.EqualTo(2 * 3 * 3), "--injection-stride strides the first convolution");
        var e = Assert.Throws<ArgumentException>(() => _ = CnnConfig(25, 3, [2, 2, 2], Activation.ReLU, 1).Spec);
        Assert.That(e!.Message, Does.Contain("smaller than the pooling kernel"));
    }

    /// <summary>
    /// One step on a 1×5×5 tanh cnn (conv 2 → pool → conv 2 → pool → linear 3; float64; SGD base without momentum, so that
    /// k = −lr·Q_u, or Adam's first step, whose k = −M⁻¹Q_u with the diagonal M⁻¹ = lr/(|Q_u| + ε_Adam)): Q_u, V_x, V_xx = y·yᵀ
    /// at every stage's input and the new parameters u + k + Σₙ Kₙ·δxₙ match a dense DDP step written out with full
    /// Jacobians (built from the float64 reference kernels), for ε = 0 and ε &gt; 0.
    /// </summary>
    [TestCase(OptimizerKind.Sgd, 0.0)]
    [TestCase(OptimizerKind.Sgd, 0.25)]
    [TestCase(OptimizerKind.Adam, 0.0)]
    [TestCase(OptimizerKind.Adam, 0.25)]
    public void GainsAndValueDerivativesMatchADenseDdpStep(OptimizerKind kind, double epsilon)
    {
        using var device = new NativeCpuDevice();
        using var model = new Classifier<double>(device, CnnConfig(25, 3, [2, 2], Activation.Tanh, 11));
        const int n = 3;
        double lr = kind == OptimizerKind.Sgd ? 0.5 : 0.05, adamEpsilon = 0.1;
        var rng = new Random(7);
        var x0 = Enumerable.Range(0, n * 25).Select(_ => 2 * rng.NextDouble() - 1).ToArray();
        int[] labels = [1, 0, 2];
        var stages = DenseStage.Of(model);
        Assert.That(stages.Select(s => s.Kind), Is.EqualTo(new[] { "conv", "pool", "conv", "pool", "linear" }));
        var parameters = model.Parameters().ToArray(); // conv.0 w, b; conv.1 w, b; head w, b
        var u = ParameterVectors(stages, parameters);
        Func<int, double[], double[,]> inverse = kind == OptimizerKind.Sgd
            ? (_, qu) => Diagonal(qu.Select(_ => lr).ToArray())
            : (_, qu) => Diagonal(qu.Select(q => lr / (Math.Abs(q) + adamEpsilon)).ToArray());
        var dense = DenseConvDdp.Step(stages, u, x0, labels, epsilon, inverse);

        using Optimizer<double> optimizer = kind == OptimizerKind.Sgd
            ? new Sgd<double>(model.Parameters(), new SgdOptions { LearningRate = lr })
            : new Adam<double>(model.Parameters(), new AdamOptions { LearningRate = lr, Epsilon = adamEpsilon });
        using var step = new DdpnStep<double>(device, model, optimizer, new DdpnOptions { Base = kind, Epsilon = epsilon, Bound = 0 });
        Assert.That(step.Stages, Is.EqualTo(5));
        using var images = device.FromArray(x0, n, 25);
        using var labelTensor = device.FromArray(labels, n);
        step.Run(images, labelTensor, new ConstantSchedule(lr));

        const double tol = 1e-12;
        for (int t = 0, p = 0; t < stages.Length; t++)
        {
            if (stages[t].Du == 0) continue;
            int weights = stages[t].Du - stages[t].Biases;
            Assert.That(parameters[p].Grad.ToArray(), Is.EqualTo(dense.Qu[t].Take(weights)).Within(tol), $"Q_u (weight) of stage {t}");
            Assert.That(parameters[p + 1].Grad.ToArray(), Is.EqualTo(dense.Qu[t].Skip(weights)).Within(tol), $"Q_u (bias) of stage {t}");
            Assert.That(parameters[p].Value.ToArray(), Is.EqualTo(dense.NewU[t].Take(weights)).Within(tol), $"u + k + K·δx (weight) of stage {t}");
            Assert.That(parameters[p + 1].Value.ToArray(), Is.EqualTo(dense.NewU[t].Skip(weights)).Within(tol), $"u + k + K·δx (bias) of stage {t}");
            p += 2;
        }
        for (int t = 1; t < stages.Length; t++)
        {
            Assert.That(step.ValueGradient(t).ToArray(), Is.EqualTo(dense.Vx[t]).Within(tol), $"V_x at the input of stage {t} ({stages[t].Kind})");
            var y = step.ValueHessianFactor(t).ToArray();
            int width = stages[t].In;
            for (int s = 0; s < n; s++)
                for (int i = 0; i < width; i++)
                    for (int j = 0; j < width; j++)
                        Assert.That(y[s * width + i] * y[s * width + j], Is.EqualTo(dense.Vxx[t][s][i, j]).Within(tol), $"V_xx[{i},{j}] of sample {s} at stage {t} ({stages[t].Kind})");
        }
        // Where q_uᵀM⁻¹q_u is formed (the convolution and the head above stage 0), it lies in (0, 1): not clamped.
        foreach (int t in new[] { 2, 4 })
            Assert.That(dense.Shrink[t].All(c => c > 0 && c < 1), $"stage {t}: 1 − q_uᵀM⁻¹q_u in (0, 1): {string.Join(", ", dense.Shrink[t])}");
        // The feedback moved the second convolution and the head: not the open-loop step u + k.
        foreach (int t in new[] { 2, 4 })
        {
            double feedback = 0;
            for (int i = 0; i < u[t].Length; i++) feedback = Math.Max(feedback, Math.Abs(dense.NewU[t][i] - (u[t][i] + dense.K[t][i])));
            Assert.That(feedback, Is.GreaterThan(1e-6), $"K·δx changes the update of stage {t}");
        }
    }

    /// <summary>With the feedback off, ddpnopt over a base optimizer trains the cnn to that optimizer's parameters bit for bit (float32, two epochs, a partial last batch).</summary>
    [TestCase(OptimizerKind.Adam)]
    [TestCase(OptimizerKind.Sgd)]
    [TestCase(OptimizerKind.Rmsprop)]
    public void WithoutFeedbackItIsItsBaseOptimizerBitForBitOnTheCnn(OptimizerKind kind)
    {
        using var device = new NativeCpuDevice();
        var train = TrainerTests.Synthetic("train", 100, 1);
        var test = TrainerTests.Synthetic("test", 30, 2);
        var baseOptions = new TrainingOptions { Epochs = 2, Batch = 32, LearningRate = 0.01, Seed = 3, AugmentShift = 1, Schedule = ScheduleSpec.Parse("cosine"), Optimizer = kind };
        var ddpnOptions = baseOptions with { Optimizer = OptimizerKind.Ddpnopt, Ddpn = new DdpnOptions { Base = kind, Feedback = false } };
        float[][] Train(TrainingOptions options)
        {
            using var model = new Classifier<float>(device, CnnConfig(36, 3, [3, 4], Activation.ReLU, 5));
            using var trainer = new Trainer(device, model, options, train, test);
            trainer.Run();
            return model.Parameters().Select(p => p.Value.ToArray()).ToArray();
        }
        var expected = Train(baseOptions);
        var actual = Train(ddpnOptions);
        Assert.That(actual, Has.Length.EqualTo(expected.Length));
        for (int i = 0; i < expected.Length; i++)
            Assert.That(actual[i].Select(BitConverter.SingleToInt32Bits), Is.EqualTo(expected[i].Select(BitConverter.SingleToInt32Bits)), $"parameter {i} after 2 epochs of {kind} vs ddpnopt without feedback on the cnn");
        Assert.That(expected[0].Distinct().Count(), Is.GreaterThan(10), "the parameters are not trivial");
    }

    [Test]
    public void ACnnTrainingStepWithFeedbackAllocatesNothingAfterWarmUp()
    {
        using var device = new NativeCpuDevice();
        var options = new TrainingOptions { Epochs = 2, Batch = 32, Optimizer = OptimizerKind.Ddpnopt, AugmentShift = 1, LearningRate = 0.003 };
        var train = TrainerTests.Synthetic("train", 16 * options.Batch, 1);
        var test = TrainerTests.Synthetic("test", 30, 2);
        using var model = new Classifier<float>(device, CnnConfig(36, 3, [3, 4], Activation.ReLU, 5));
        using var trainer = new Trainer(device, model, options, train, test);
        // In rounds of two steps (at most five): a one-time allocation by the runtime passes, one per step fails.
        SteadyStateAllocation.AssertTrainingSteps(trainer, warmUp: 3, stepsPerRound: 2, "cnn ddpnopt training steps");
        Assert.That(model.Parameters().All(p => p.Value.ToArray().All(float.IsFinite)), "finite parameters");
    }

    /// <summary>
    /// conv-opteq with --pool 2: the pooling becomes a DDP stage of the head (pool + linear above the equilibrium), and
    /// without feedback the step is the base optimizer's bit for bit; with feedback the step runs and moves the head.
    /// </summary>
    [Test]
    public void ConvOptEqWithPoolingHasAPoolingAndALinearHeadStage()
    {
        using var device = new NativeCpuDevice();
        var train = TrainerTests.Synthetic("train", 70, 1);
        var test = TrainerTests.Synthetic("test", 20, 2);
        var config = new ModelConfig { Model = ModelKind.ConvOptEq, Input = 36, Classes = 3, Seed = 5, Conv = new ConvModelOptions { Channels = [2], InjectionStride = 1, Pool = 2 } };
        var baseOptions = new TrainingOptions { Epochs = 1, Batch = 32, LearningRate = 0.01, Seed = 3, Optimizer = OptimizerKind.Adam };
        float[][] Train(TrainingOptions options)
        {
            using var model = new Classifier<float>(device, config);
            using var trainer = new Trainer(device, model, options, train, test);
            trainer.Run();
            return model.Parameters().Select(p => p.Value.ToArray()).ToArray();
        }
        var expected = Train(baseOptions);
        var actual = Train(baseOptions with { Optimizer = OptimizerKind.Ddpnopt, Ddpn = new DdpnOptions { Feedback = false } });
        for (int i = 0; i < expected.Length; i++)
            Assert.That(actual[i].Select(BitConverter.SingleToInt32Bits), Is.EqualTo(expected[i].Select(BitConverter.SingleToInt32Bits)), $"parameter {i} of conv-opteq with pooling, adam vs ddpnopt without feedback");

        using var model = new Classifier<float>(device, config);
        using var optimizer = OptimizerFactory.Create<float>(OptimizerKind.Adam, model.Parameters(), 0.01);
        using var step = new DdpnStep<float>(device, model, optimizer, new DdpnOptions());
        Assert.That(step.HasImplicitPrefix && step.Stages == 2, "the head is the pooling and the linear layer");
        using var images = device.FromArray(Enumerable.Range(0, 8 * 36).Select(i => (float)Math.Sin(i)).ToArray(), 8, 36);
        using var labels = device.FromArray(Enumerable.Range(0, 8).Select(i => i % 3).ToArray(), 8);
        var head = model.Parameters().Last().Value.ToArray();
        var (loss, _) = step.Run(images, labels, new ConstantSchedule(0.01));
        Assert.That(float.IsFinite(loss));
        Assert.That(step.ValueGradient(0).Shape, Is.EqualTo(new[] { 8, 2 * 6 * 6 }), "V_x at z*, below the pooling");
        Assert.That(model.Parameters().Last().Value.ToArray(), Is.Not.EqualTo(head), "the head moved");
    }

    [Test]
    public void TheKroneckerPreconditionerOnAConvolutionIsRefusedClearly()
    {
        using var device = new NativeCpuDevice();
        using var model = new Classifier<float>(device, CnnConfig(36, 3, [2], Activation.ReLU, 5));
        using var optimizer = OptimizerFactory.Create<float>(OptimizerKind.Sgd, model.Parameters(), 0.01);
        var e = Assert.Throws<NotSupportedException>(() => new DdpnStep<float>(device, model, optimizer, new DdpnOptions { Base = OptimizerKind.Sgd, Preconditioner = DdpnPreconditioner.Kfac }).Dispose());
        Assert.That(e!.Message, Does.Contain("kfac").And.Contain("convolutions"));
    }

    /// <summary>
    /// One step with feedback on the ILGPU CPU accelerator gives the native backend's parameters, V_x and y (float64): the
    /// convolution stage's per-sample views and kernels run there as on the native backend.
    /// </summary>
    [Test]
    public void TheIlgpuBackendAgreesWithTheNativeOne()
    {
        var rng = new Random(3);
        var x = Enumerable.Range(0, 4 * 25).Select(_ => 2 * rng.NextDouble() - 1).ToArray();
        int[] labels = [0, 1, 2, 1];
        (double[][] Parameters, double[] Vx, double[] Y) Step(Device device)
        {
            using var model = new Classifier<double>(device, CnnConfig(25, 3, [2, 2], Activation.Tanh, 11));
            using var optimizer = new Adam<double>(model.Parameters(), new AdamOptions { LearningRate = 0.01 });
            using var step = new DdpnStep<double>(device, model, optimizer, new DdpnOptions { Base = OptimizerKind.Adam, Epsilon = 0.1 });
            using var images = device.FromArray(x, 4, 25);
            using var labelTensor = device.FromArray(labels, 4);
            step.Run(images, labelTensor, new ConstantSchedule(0.01));
            return (model.Parameters().Select(p => p.Value.ToArray()).ToArray(), step.ValueGradient(2).ToArray(), step.ValueHessianFactor(2).ToArray());
        }
        using var native = new NativeCpuDevice();
        using var ilgpu = DeviceCatalog.Open("ilgpu-cpu");
        var expected = Step(native);
        var actual = Step(ilgpu);
        for (int i = 0; i < expected.Parameters.Length; i++)
            Assert.That(actual.Parameters[i], Is.EqualTo(expected.Parameters[i]).Within(1e-12), $"parameter {i}");
        Assert.That(actual.Vx, Is.EqualTo(expected.Vx).Within(1e-12), "V_x at the second convolution's input");
        Assert.That(actual.Y, Is.EqualTo(expected.Y).Within(1e-12), "y at the second convolution's input");
        Assert.That(expected.Y.Max(Math.Abs), Is.GreaterThan(1e-6), "y is not trivial");
    }

    private static double[][] ParameterVectors(DenseStage[] stages, Parameter<double>[] parameters)
    {
        var u = new double[stages.Length][];
        for (int t = 0, p = 0; t < stages.Length; t++)
        {
            if (stages[t].Du == 0) { u[t] = []; continue; }
            u[t] = [.. parameters[p].Value.ToArray(), .. parameters[p + 1].Value.ToArray()];
            p += 2;
        }
        return u;
    }

    private static double[,] Diagonal(double[] d)
    {
        var m = new double[d.Length, d.Length];
        for (int i = 0; i < d.Length; i++) m[i, i] = d[i];
        return m;
    }

    /// <summary>
    /// One stage as a dense map: pre = A(u)·x + b(u), affine in x for fixed u and linear in u = (W row-major, b) for fixed x,
    /// evaluated with the float64 reference kernels; its Jacobians are read off column by column.
    /// </summary>
    private sealed class DenseStage
    {
        public required string Kind;
        public required int In, Out, Du, Biases;
        public required bool Tanh;
        public Conv2dGeometry Conv;
        public Pool2dGeometry Pool;

        public static DenseStage[] Of(Classifier<double> model)
        {
            var stages = new List<DenseStage>();
            var layers = model.Layers;
            for (int i = 0; i < layers.Count; i++)
            {
                bool tanh = i + 1 < layers.Count && layers[i + 1] is ActivationLayer<double>;
                stages.Add(layers[i] switch
                {
                    Conv2dLayer<double> c => new DenseStage
                    {
                        Kind = "conv", Conv = c.Geometry, In = c.Geometry.InputSize, Out = c.Geometry.OutputSize,
                        Du = c.Geometry.OutChannels * (c.Geometry.WeightColumns + 1), Biases = c.Geometry.OutChannels, Tanh = tanh,
                    },
                    AvgPool2dLayer<double> p => new DenseStage { Kind = "pool", Pool = p.Geometry, In = p.Geometry.InputSize, Out = p.Geometry.OutputSize, Du = 0, Biases = 0, Tanh = false },
                    Linear<double> l => new DenseStage { Kind = "linear", In = l.Weight.Shape[1], Out = l.Weight.Shape[0], Du = l.Weight.Shape[0] * (l.Weight.Shape[1] + 1), Biases = l.Weight.Shape[0], Tanh = tanh },
                    var other => throw new InvalidOperationException($"unexpected layer {other.GetType().Name}"),
                });
                if (tanh) i++;
            }
            return [.. stages];
        }

        public double[] Pre(double[] u, double[] x)
        {
            switch (Kind)
            {
                case "pool": return ReferenceKernels.AvgPool2d(Pool, 1, x);
                case "conv": return ReferenceKernels.Conv2d(Conv, 1, x, u[..(Du - Biases)], u[(Du - Biases)..]);
                default:
                    return Enumerable.Range(0, Out).Select(r => u[Out * In + r] + Enumerable.Range(0, In).Sum(c => u[r * In + c] * x[c])).ToArray();
            }
        }

        public double[,] Jx(double[] u)
        {
            var m = new double[Out, In];
            var origin = Pre(u, new double[In]);
            for (int j = 0; j < In; j++)
            {
                var e = new double[In]; e[j] = 1;
                var column = Pre(u, e);
                for (int r = 0; r < Out; r++) m[r, j] = column[r] - origin[r];
            }
            return m;
        }

        public double[,] Ju(double[] x)
        {
            var m = new double[Out, Du];
            for (int k = 0; k < Du; k++)
            {
                var e = new double[Du]; e[k] = 1;
                var column = Pre(e, x);
                for (int r = 0; r < Out; r++) m[r, k] = column[r];
            }
            return m;
        }
    }

    /// <summary>The dense DDP step of docs/math.md §6 over <see cref="DenseStage"/>s: full per-sample Jacobians f_x = diag(σ′)·J_x and f_u = diag(σ′)·J_u, no factorisation.</summary>
    private sealed class DenseConvDdp
    {
        public required double[][] Qu, K, NewU, Vx, Shrink;
        public required double[][][,] Vxx;

        /// <summary><paramref name="inverse"/> gives M⁻¹ [dim u, dim u] of stage t from its Q_u.</summary>
        public static DenseConvDdp Step(DenseStage[] stages, double[][] u, double[] x0, int[] labels, double epsilon, Func<int, double[], double[,]> inverse)
        {
            int count = stages.Length, n = labels.Length;
            var xs = new double[count + 1][][];
            var ds = new double[count][][];
            xs[0] = Enumerable.Range(0, n).Select(s => x0.Skip(s * stages[0].In).Take(stages[0].In).ToArray()).ToArray();
            for (int t = 0; t < count; t++)
            {
                xs[t + 1] = new double[n][]; ds[t] = new double[n][];
                for (int s = 0; s < n; s++)
                {
                    var a = stages[t].Pre(u[t], xs[t][s]);
                    xs[t + 1][s] = stages[t].Tanh ? a.Select(Math.Tanh).ToArray() : a;
                    ds[t][s] = stages[t].Tanh ? a.Select(v => 1 - Math.Tanh(v) * Math.Tanh(v)).ToArray() : a.Select(_ => 1.0).ToArray();
                }
            }
            var vx = new double[n][]; var vxx = new double[n][,];
            for (int s = 0; s < n; s++)
            {
                var z = xs[count][s];
                double max = z.Max(), sum = z.Sum(v => Math.Exp(v - max));
                vx[s] = z.Select((v, j) => (Math.Exp(v - max) / sum - (j == labels[s] ? 1 : 0)) / n).ToArray();
                vxx[s] = Outer(vx[s], vx[s], n);
            }
            var result = new DenseConvDdp
            {
                Qu = new double[count][], K = new double[count][], NewU = new double[count][], Vx = new double[count][], Shrink = new double[count][], Vxx = new double[count][][,],
            };
            var gains = new double[count][][,];
            for (int t = count - 1; t >= 0; t--)
            {
                var stage = stages[t];
                int du = stage.Du;
                var qu = new double[du];
                var qux = new double[n][,]; var qux0 = new double[n][,]; var qx = new double[n][]; var qxx = new double[n][,];
                var jx = stage.Jx(u[t]);
                for (int s = 0; s < n; s++)
                {
                    var fx = RowScaled(ds[t][s], jx);
                    var fxT = Transpose(fx);
                    qx[s] = MatVec(fxT, vx[s]);
                    qxx[s] = Mul(Mul(fxT, vxx[s]), fx);
                    if (du == 0) continue;
                    var fuT = Transpose(RowScaled(ds[t][s], stage.Ju(xs[t][s])));
                    var g = MatVec(fuT, vx[s]);
                    for (int j = 0; j < du; j++) qu[j] += g[j];
                    qux0[s] = Mul(Mul(fuT, vxx[s]), fx);
                    qux[s] = Mul(Mul(fuT, AddIdentity(vxx[s], epsilon)), fx);
                }
                result.Qu[t] = qu;
                var nextVx = new double[n][]; var nextVxx = new double[n][,];
                result.Shrink[t] = Enumerable.Repeat(1.0, n).ToArray();
                if (du == 0)
                {
                    // No control: V_x = Q_x, V_xx = Q_xx.
                    result.K[t] = [];
                    gains[t] = [];
                    nextVx = qx; nextVxx = qxx;
                }
                else
                {
                    var minv = inverse(t, qu);
                    var step = MatVec(minv, qu);
                    result.K[t] = step.Select(v => -v).ToArray();
                    gains[t] = qux.Select(m => Scale(Mul(minv, m), -1)).ToArray();
                    for (int s = 0; s < n; s++)
                    {
                        nextVx[s] = qx[s].Zip(MatVec(Transpose(qux[s]), step), (p, q) => p - q).ToArray();
                        nextVxx[s] = Subtract(qxx[s], Mul(Mul(Transpose(qux0[s]), minv), qux0[s]));
                        result.Shrink[t][s] = Trace(nextVxx[s]) / Trace(qxx[s]);
                    }
                }
                result.Vx[t] = nextVx.SelectMany(v => v).ToArray();
                result.Vxx[t] = nextVxx;
                vx = nextVx; vxx = nextVxx;
            }
            // The feedback forward pass: u ← u + k + Σₙ Kₙ·δxₙ, x̂_{t+1} = f(x̂_t, u).
            var xHat = xs[0];
            for (int t = 0; t < count; t++)
            {
                var stage = stages[t];
                var newU = u[t].Zip(result.K[t], (p, q) => p + q).ToArray();
                for (int s = 0; s < n && stage.Du > 0; s++)
                {
                    var kdx = MatVec(gains[t][s], xHat[s].Zip(xs[t][s], (p, q) => p - q).ToArray());
                    for (int j = 0; j < stage.Du; j++) newU[j] += kdx[j];
                }
                result.NewU[t] = newU;
                xHat = xHat.Select(x => { var a = stage.Pre(newU, x); return stage.Tanh ? a.Select(Math.Tanh).ToArray() : a; }).ToArray();
            }
            return result;
        }

        private static double[,] RowScaled(double[] d, double[,] a)
        {
            var m = (double[,])a.Clone();
            for (int i = 0; i < a.GetLength(0); i++) for (int j = 0; j < a.GetLength(1); j++) m[i, j] *= d[i];
            return m;
        }
    }
}
