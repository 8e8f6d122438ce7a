using NUnit.Framework;
using OptEq.Autodiff;
using OptEq.Autodiff.Checks;
using OptEq.Autodiff.Layers;
using OptEq.Autodiff.Models;
using OptEq.Kernels;
using OptEq.Kernels.Activations;
using OptEq.Kernels.Native;
using OptEq.Solvers;
using OptEq.Solvers.Maps;

namespace OptEq.Tests.Autodiff;

/// <summary>
/// The monotone conv layer (conv-mon) on tiny images in float64: its operator unrolled to a dense matrix and checked
/// against the definition W = (1 − m)I − AᵀA + B − Bᵀ (monotonicity, transpose, ||I − W||₂), its equilibrium, its
/// gradients against finite differences, and its replayed step's allocations.
/// </summary>
[NonParallelizable]
public class MonotoneConvLayerTests
{
    private NativeCpuDevice _device = null!;

    [OneTimeSetUp] public void Open() => _device = new NativeCpuDevice();
    [OneTimeTearDown] public void Close() => _device.Dispose();

    private static readonly SolverOptions Tight = new() { Solver = ForwardSolvers.Anderson, MaxIterations = 400, Tolerance = 1e-13, Stop = StopCriterion.Absolute };
    private static readonly BackwardOptions TightBackward = new()
    {
        Mode = BackwardMode.Implicit, Adjoint = AdjointSolvers.Anderson,
        AdjointOptions = new SolverOptions { MaxIterations = 400, Tolerance = 1e-13, Stop = StopCriterion.Absolute },
    };

    private static MonotoneConvLayerOptions Tiny(ConvPadding padding, Activation activation, int pool = 1, int height = 5, int width = 4) => new()
    {
        InputChannels = 2, Height = height, Width = width, Channels = 3, KernelSize = 3, Padding = padding, Pool = pool, Margin = 0.5,
        Activation = activation, Forward = Tight, Backward = TightBackward,
    };

    private Tensor<double> Random(int seed, double scale, params int[] shape)
    {
        var rng = new Random(seed);
        long n = shape.Aggregate(1L, (a, b) => a * b);
        return _device.FromArray(Enumerable.Range(0, (int)n).Select(_ => scale * (2 * rng.NextDouble() - 1)).ToArray(), shape);
    }

    /// <summary>The dense matrix of z ↦ W z (or Wᵀ z) [d, d], column j = the map applied to the j-th unit vector (with c = 0, identity σ).</summary>
    private double[,] Unroll(MonotoneConvLayer<double> layer, bool transpose)
    {
        var g = layer.Options.Recurrent;
        int d = g.InputSize;
        using var eye = _device.FromArray(Enumerable.Range(0, d * d).Select(i => i / d == i % d ? 1.0 : 0.0).ToArray(), d, d);
        using var zero = _device.Allocate<double>(d, d);
        using var map = new MonotoneConvMap<double>(Activation.Identity, g, layer.A.Value, layer.B.Value, layer.Options.Margin, zero);
        using var result = _device.Allocate<double>(d, d);
        if (transpose)
        {
            map.PrepareAdjoint(eye); // σ′ = 1 everywhere for the identity
            map.VectorJacobianProduct(eye, result);
        }
        else map.Apply(eye, result);
        var rows = result.ToArray(); // row j = (W e_j)ᵀ
        var w = new double[d, d];
        for (int i = 0; i < d; i++) for (int j = 0; j < d; j++) w[i, j] = rows[j * d + i];
        return w;
    }

    /// <summary>The dense matrix of a convolution's operator z ↦ conv(z, K).</summary>
    private double[,] UnrollConvolution(Conv2dGeometry g, Tensor<double> kernel)
    {
        int d = g.InputSize;
        using var eye = _device.FromArray(Enumerable.Range(0, d * d).Select(i => i / d == i % d ? 1.0 : 0.0).ToArray(), d, d);
        using var result = _device.Allocate<double>(d, g.OutputSize);
        _device.Conv2d(g, eye, kernel, null, result);
        var rows = result.ToArray();
        var k = new double[g.OutputSize, d];
        for (int i = 0; i < g.OutputSize; i++) for (int j = 0; j < d; j++) k[i, j] = rows[j * g.OutputSize + i];
        return k;
    }

    [TestCase(ConvPadding.Circular)]
    [TestCase(ConvPadding.Zero)]
    public void TheOperatorIsTheDefinitionAndStronglyMonotone(ConvPadding padding)
    {
        using var layer = new MonotoneConvLayer<double>(_device, "mon", Tiny(padding, Activation.ReLU), new Random(1));
        var g = layer.Options.Recurrent;
        int d = g.InputSize;
        double m = layer.Options.Margin;
        var w = Unroll(layer, transpose: false);
        var wt = Unroll(layer, transpose: true);
        var a = UnrollConvolution(g, layer.A.Value);
        var b = UnrollConvolution(g, layer.B.Value);
        var symmetric = new double[d, d];
        double worst = 0, worstTranspose = 0;
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++)
            {
                double ata = 0;
                for (int k = 0; k < d; k++) ata += a[k, i] * a[k, j];
                double expected = (i == j ? 1 - m : 0) - ata + b[i, j] - b[j, i];
                worst = Math.Max(worst, Math.Abs(w[i, j] - expected));
                worstTranspose = Math.Max(worstTranspose, Math.Abs(wt[i, j] - w[j, i]));
                // The symmetric part of I − W minus mI, which must be positive semidefinite (it is AᵀA).
                symmetric[i, j] = (i == j ? 1 - m : 0) - 0.5 * (w[i, j] + w[j, i]);
            }
        Assert.That(worst, Is.LessThan(1e-12), "W = (1 − m)I − AᵀA + B − Bᵀ entrywise");
        Assert.That(worstTranspose, Is.LessThan(1e-12), "the adjoint path applies Wᵀ");
        // ½(I − W + (I − W)ᵀ) − mI ⪰ 0: its Cholesky factorisation with a 1e-9 shift exists.
        for (int i = 0; i < d; i++) symmetric[i, i] += 1e-9;
        Assert.That(Cholesky(symmetric, d), Is.True, "the symmetric part of I − W is ⪰ m·I");
        // And the margin is tight only where AᵀA is singular: mI + AᵀA − (m + 0.1)I is not PSD when A has a null direction or
        // its smallest eigenvalue is below 0.1; the test above is the claim, this guards against a vacuous check.
        var shifted = (double[,])symmetric.Clone();
        for (int i = 0; i < d; i++) shifted[i, i] -= 1e-9 + 10;
        Assert.That(Cholesky(shifted, d), Is.False, "a margin of m + 10 is not certified (the check can fail)");
    }

    private static bool Cholesky(double[,] s, int n)
    {
        var l = new double[n, n];
        for (int j = 0; j < n; j++)
        {
            double diag = s[j, j];
            for (int k = 0; k < j; k++) diag -= l[j, k] * l[j, k];
            if (!(diag > 0)) return false;
            l[j, j] = Math.Sqrt(diag);
            for (int i = j + 1; i < n; i++)
            {
                double v = s[i, j];
                for (int k = 0; k < j; k++) v -= l[i, k] * l[j, k];
                l[i, j] = v / l[j, j];
            }
        }
        return true;
    }

    [Test]
    public void TheLipschitzEstimateIsTheLargestSingularValueOfIMinusW()
    {
        using var layer = new MonotoneConvLayer<double>(_device, "mon", Tiny(ConvPadding.Circular, Activation.ReLU), new Random(2));
        var w = Unroll(layer, transpose: false);
        int d = w.GetLength(0);
        // σ_max(I − W) by dense power iteration on (I − W)ᵀ(I − W).
        var v = Enumerable.Range(0, d).Select(i => 1.0 + 0.01 * i).ToArray();
        double sigma = 0;
        for (int it = 0; it < 5000; it++)
        {
            var x = new double[d];
            for (int i = 0; i < d; i++) for (int j = 0; j < d; j++) x[i] += ((i == j ? 1 : 0) - w[i, j]) * v[j];
            sigma = Math.Sqrt(x.Sum(t => t * t) / v.Sum(t => t * t));
            var y = new double[d];
            for (int i = 0; i < d; i++) for (int j = 0; j < d; j++) y[j] += ((i == j ? 1 : 0) - w[i, j]) * x[i];
            double n = Math.Sqrt(y.Sum(t => t * t));
            for (int i = 0; i < d; i++) v[i] = y[i] / n;
        }
        var step = layer.StepRule;
        double estimate = MonotoneConvMap<double>.LipschitzEstimate(layer.Options.Recurrent, layer.A.Value, layer.B.Value, layer.Options.Margin,
            step.Vector, step.First, step.Second, step.Norm, 3000);
        Assert.That(estimate, Is.EqualTo(sigma).Within(1e-6 * sigma));
        Assert.That(sigma, Is.GreaterThanOrEqualTo(layer.Options.Margin), "||I − W|| ≥ m");
    }

    [TestCase(ConvPadding.Circular)]
    [TestCase(ConvPadding.Zero)]
    public void ForwardBackwardSplittingReachesTheEquilibrium(ConvPadding padding)
    {
        var options = Tiny(padding, Activation.ReLU) with
        {
            Forward = new SolverOptions { Solver = ForwardSolvers.ForwardBackward, MaxIterations = 3000, Tolerance = 1e-12, Stop = StopCriterion.Absolute, SplittingStep = 1.5 },
        };
        using var layer = new MonotoneConvLayer<double>(_device, "mon", options, new Random(3));
        using var x = Random(4, 1, 3, options.Injection.InputSize);
        using var tape = Tape<double>.NoGrad(_device);
        var z = layer.Equilibrium(tape.Constant(x)).Value.ToArray();
        Assert.That(layer.Report.ForwardConverged, Is.EqualTo(1.0), "every sample converged");
        Assert.That(layer.StepRule.StepScale, Is.GreaterThan(0).And.LessThanOrEqualTo(1 / layer.Options.Margin));
        // z = relu(W z + c) against the dense W and the injection computed here.
        var w = Unroll(layer, transpose: false);
        int d = w.GetLength(0);
        using var c = _device.Allocate<double>(3, d);
        _device.Conv2d(options.Injection, x, layer.U.Value, layer.Bias.Value, c);
        var cv = c.ToArray();
        double worst = 0, scale = 0;
        for (int s = 0; s < 3; s++)
            for (int i = 0; i < d; i++)
            {
                double v = cv[s * d + i];
                for (int j = 0; j < d; j++) v += w[i, j] * z[s * d + j];
                worst = Math.Max(worst, Math.Abs(Math.Max(v, 0) - z[s * d + i]));
                scale = Math.Max(scale, Math.Abs(z[s * d + i]));
            }
        Assert.That(scale, Is.GreaterThan(0.01), "a non-trivial equilibrium");
        Assert.That(worst, Is.LessThan(1e-9), "||relu(Wz + c) − z||∞");
    }

    [TestCase(ConvPadding.Circular, 1)]
    [TestCase(ConvPadding.Zero, 2)]
    public void GradientsMatchFiniteDifferences(ConvPadding padding, int pool)
    {
        foreach (var activation in new[] { Activation.Tanh, Activation.Softplus })
        {
            var options = Tiny(padding, activation, pool, height: 4, width: 4);
            using var layer = new MonotoneConvLayer<double>(_device, "mon", options, new Random(5));
            using var x = Random(6, 1, 2, options.Injection.InputSize);
            var result = GradientCheck.CheckLayer($"conv-mon-{activation}", "implicit-anderson", layer, x);
            TestContext.Out.WriteLine($"{result.Target}: {result.MaxRelativeError:e2} over {result.Checked} entries (worst {result.WorstEntry})");
            Assert.That(result.Checked, Is.GreaterThan(40), "entries sampled across U, b, A, B and the input");
            Assert.That(result.Passes, Is.True, $"{result.Target}: relative error {result.MaxRelativeError:e2} at {result.WorstEntry}");
        }
    }

    [Test]
    public void TheSpecBuildsTheLayerAndRoundTripsThroughJson()
    {
        var spec = new ModelSpec
        {
            Input = 2 * 8 * 8,
            Layers = [new MonotoneConvSpec { Name = "mon", Channels = 3, InputChannels = 2, Pool = 4 }, new LinearSpec { Name = "head", Output = 10 }],
        };
        spec.Validate();
        Assert.That(spec.Layers[0].OutputSize(spec.Input), Is.EqualTo(3 * 2 * 2));
        var json = System.Text.Json.JsonSerializer.Serialize(spec, ModelJson.Options);
        Assert.That(json.Replace(" ", ""), Does.Contain("\"layer\":\"conv-mon\""));
        var back = System.Text.Json.JsonSerializer.Deserialize<ModelSpec>(json, ModelJson.Options)!;
        Assert.That(back, Is.EqualTo(spec));
        using var model = new Classifier<float>(_device, new ModelConfig { Model = ModelKind.Custom, Input = spec.Input, Classes = 10, Spec = back });
        Assert.That(model.ParameterCount, Is.EqualTo(3 * 2 * 9 + 3 + 2 * 3 * 3 * 9 + 12 * 10 + 10));
        Assert.That(() => new MonotoneConvSpec { Name = "mon", Channels = 3 }.Validate(50), Throws.InstanceOf<ArgumentException>().With.Message.Contains("square"));
        Assert.That(() => new MonotoneConvSpec { Name = "mon", Channels = 3, KernelSize = 2 }.Validate(64), Throws.InstanceOf<ArgumentException>().With.Message.Contains("odd"));
        Assert.That(() => new MonotoneConvSpec { Name = "mon", Channels = 3, Forward = new SolverOptions { Solver = ForwardSolvers.PeacemanRachford } }.Validate(64),
            Throws.InstanceOf<ArgumentException>().With.Message.Contains("Fourier"));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void AReplayedTrainingStepAllocatesNothing(bool columnsOnly)
    {
        // columnsOnly: the native convolutions through im2col + GEMM only (not the direct stride-1 kernel).
        bool previous = OptEq.Kernels.Native.NativeConvolution.ColumnsOnly;
        OptEq.Kernels.Native.NativeConvolution.ColumnsOnly = columnsOnly;
        try { ReplayedStepAllocations(); }
        finally { OptEq.Kernels.Native.NativeConvolution.ColumnsOnly = previous; }
    }

    private void ReplayedStepAllocations()
    {
        var options = new MonotoneConvLayerOptions
        {
            InputChannels = 1, Height = 8, Width = 8, Channels = 4, Pool = 4, Activation = Activation.ReLU,
            Forward = new SolverOptions { Solver = ForwardSolvers.ForwardBackward, MaxIterations = 6, Tolerance = 0, CheckEvery = 3 },
            Backward = new BackwardOptions { Adjoint = AdjointSolvers.Anderson, AdjointOptions = new SolverOptions { MaxIterations = 6, Tolerance = 0, CheckEvery = 3 } },
        };
        using var layer = new MonotoneConvLayer<float>(_device, "mon", options, new Random(7));
        using var head = new Linear<float>(_device, "head", layer.OutputSize, 10, new Random(8));
        var rng = new Random(9);
        using var x = _device.FromArray(Enumerable.Range(0, 16 * 64).Select(_ => (float)rng.NextDouble()).ToArray(), 16, 64);
        using var y = _device.FromArray(Enumerable.Range(0, 16).Select(i => i % 10).ToArray(), 16);
        using var optimizer = new OptEq.Autodiff.Optimizers.Adam<float>(layer.Parameters().Concat(head.Parameters()), new OptEq.Autodiff.Optimizers.AdamOptions());
        using var tape = Tape<float>.ForReplay(_device);
        var loss = Ops.SoftmaxCrossEntropy(head.Forward(layer.Forward(tape.Constant(x))), y, out _);
        tape.Backward(loss);
        optimizer.Step();
        void Step() { optimizer.ZeroGrad(); tape.Replay(loss); optimizer.Step(); }
        Step(); Step();
        long before = GC.GetAllocatedBytesForCurrentThread(), workers = WorkerTeam.WorkerAllocatedBytes;
        Step(); Step();
        long bytes = GC.GetAllocatedBytesForCurrentThread() - before + (WorkerTeam.WorkerAllocatedBytes - workers);
        Assert.That(bytes, Is.Zero, "managed bytes of two replayed conv-mon steps");
        Assert.That(layer.StepRule.Lipschitz, Is.GreaterThanOrEqualTo(options.Margin));
    }
}
