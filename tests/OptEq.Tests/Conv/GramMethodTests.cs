using System.Numerics;
using NUnit.Framework;
using OptEq.Autodiff;
using OptEq.Autodiff.Layers;
using OptEq.Autodiff.Models;
using OptEq.Kernels;
using OptEq.Kernels.Activations;
using OptEq.Kernels.Native;
using OptEq.Solvers;
using OptEq.Solvers.Maps;
using OptEq.Solvers.Operators;

namespace OptEq.Tests.Conv;

/// <summary>
/// conv-opteq's WᵀW methods (<see cref="GramMethod"/>, docs/math.md §1.7): the same equilibrium and parameter gradients
/// as two convolutions in float64 and float32, through a replayed step whose weights changed since the recording (so a
/// stale Fourier spectrum would show), the same with the training solvers, the automatic rule, the refusals, and the
/// model JSON (a configuration without the key is the old behaviour). Finite differences of each method:
/// <c>GradientCheckSuite</c> (conv-opteq-relu-*-blocked, -fourier; run by GradientCheckTests and <c>opteq check gradients</c>).
/// </summary>
public class GramMethodTests
{
    private NativeCpuDevice _device = null!;

    [OneTimeSetUp] public void Open() => _device = new NativeCpuDevice();
    [OneTimeTearDown] public void Close() => _device.Dispose();

    private const int Batch = 3;

    /// <summary>
    /// A 2×6×5 image (H ≠ W, odd W), 4 hidden channels, γ = 0.5 (ρ = γ² = 0.25); fixed iteration counts (tolerance 0), so
    /// every method runs the same iterations: Picard forward, fixed-point adjoint — both linear-rate contractions by ρ,
    /// which keep the rounding differences of K's application from growing (see <see cref="Tolerance{T}"/>).
    /// </summary>
    private static ConvOptEqLayerOptions FixedIterations(ConvPadding padding, GramMethod gram) => new()
    {
        InChannels = 2, Height = 6, Width = 5, Channels = 4, KernelSize = 3, Padding = padding, InjectionStride = 1, Gamma = 0.5, PowerSteps = 20,
        Gram = gram,
        Forward = new SolverOptions { Solver = ForwardSolvers.Picard, MaxIterations = 40, Tolerance = 0 },
        Backward = new BackwardOptions { Adjoint = AdjointSolvers.FixedPoint, AdjointOptions = new SolverOptions { MaxIterations = 40, Tolerance = 0 } },
    };

    /// <summary>
    /// Norm-wise relative tolerance between two methods. Each application of K differs between methods by at most
    /// ε·||K||₂·||v|| per sample, ε ≤ 16u(√n + 2) with n = C·H·W (the CircularConvSpectrum kernel tests' bound for the
    /// DFT path, measured ≲ 1.4u; the two convolutions' own rounding is below it). An iteration z ← σ(Kz + c) with σ
    /// 1-Lipschitz and ||K||₂ ≤ ρ carries a difference e to ρe + ε·ρ||z||, so after any number of iterations
    /// e ≤ ερ/(1 − ρ)·max||z||; the same for the fixed-point adjoint. The gradients are bilinear in z*, the adjoint and W:
    /// their norm-wise difference is at most the sum of those, hence the factor 2 more; another 2 for the sums over
    /// pixels and the batch. In float64 this is ≈ 4·10⁻¹⁴; in float32 ≈ 3·10⁻⁵.
    /// </summary>
    private static double Tolerance<T>(int n, double rho) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double u = typeof(T) == typeof(float) ? Math.Pow(2, -24) : Math.Pow(2, -53);
        return 4 * 16 * u * (Math.Sqrt(n) + 2) / (1 - rho);
    }

    /// <summary>
    /// Records loss = Σ out ⊙ R on a replayable tape, then changes V (so σ, W and any spectrum change) and replays: the
    /// recorded output, the replayed output and the replayed gradients of V, U and b, as float64.
    /// </summary>
    private (double[] Recorded, double[] Output, double[][] Grads) ReplayedStep<T>(ConvOptEqLayerOptions options) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Random(21);
        using var layer = new ConvOptEqLayer<T>(_device, "conv", options, new Random(9));
        int inputs = options.InChannels * options.Height * options.Width;
        T[] Values(int count, double scale) => Enumerable.Range(0, count).Select(_ => T.CreateChecked(scale * (rng.NextDouble() - 0.5))).ToArray();
        using var x = _device.FromArray(Values(Batch * inputs, 2), Batch, inputs);
        using var tape = Tape<T>.ForReplay(_device);
        var output = layer.Forward(tape.Constant(x));
        using var r = _device.FromArray(Enumerable.Range(0, (int)output.Value.Length).Select(i => T.CreateChecked(Math.Sin(i + 1.0))).ToArray(), output.Shape);
        var loss = Ops.Sum(Ops.Mul(output, tape.Constant(r)));
        tape.Backward(loss);
        static double[] D(T[] a) => a.Select(double.CreateChecked).ToArray();
        var recorded = D(output.Value.ToArray());
        // The step the replay stands for: an optimizer moved V (the batch stays, so only W's change moves z*).
        var v = layer.V.Value.ToArray();
        var noise = Values(v.Length, 0.2);
        for (int i = 0; i < v.Length; i++) v[i] += noise[i];
        layer.V.Value.CopyFrom(v);
        foreach (var p in layer.Parameters()) p.ZeroGrad();
        tape.Replay(loss);
        return (recorded, D(output.Value.ToArray()), layer.Parameters().Select(p => D(p.Grad.ToArray())).ToArray());
    }

    private static double Distance(double[] a, double[] b) => Math.Sqrt(a.Zip(b, (p, q) => (p - q) * (p - q)).Sum());
    private static double Norm(double[] a) => Math.Sqrt(a.Sum(p => p * p));

    private void AssertSameAsConvs<T>(ConvPadding padding, GramMethod gram) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var expected = ReplayedStep<T>(FixedIterations(padding, GramMethod.Convolutions));
        var actual = ReplayedStep<T>(FixedIterations(padding, gram));
        double tolerance = Tolerance<T>(4 * 6 * 5, 0.25);
        Assert.That(Norm(expected.Output), Is.GreaterThan(0.1), "a non-trivial equilibrium");
        // A spectrum not refreshed after V changed would give the recorded equilibrium again: far outside the tolerance.
        Assert.That(Distance(expected.Recorded, expected.Output), Is.GreaterThan(100 * tolerance * Norm(expected.Output)), "the replay's new V moves z*");
        Assert.That(Distance(actual.Output, expected.Output), Is.LessThanOrEqualTo(tolerance * Norm(expected.Output)), $"z* by {gram}, {typeof(T).Name}");
        TestContext.Out.WriteLine($"{gram} {typeof(T).Name}: z* differs by {Distance(actual.Output, expected.Output) / Norm(expected.Output):e2} (tolerance {tolerance:e2}), " +
            $"gradients by {string.Join(", ", expected.Grads.Select((e, p) => (Distance(actual.Grads[p], e) / Norm(e)).ToString("e2")))}; the replay moved z* by {Distance(expected.Recorded, expected.Output) / Norm(expected.Output):e2}");
        string[] names = ["V", "U", "b"];
        for (int p = 0; p < expected.Grads.Length; p++)
        {
            Assert.That(Norm(expected.Grads[p]), Is.GreaterThan(1e-3), $"a non-trivial gradient of {names[p]}");
            Assert.That(Distance(actual.Grads[p], expected.Grads[p]), Is.LessThanOrEqualTo(tolerance * Norm(expected.Grads[p])),
                $"gradient of {names[p]} by {gram}, {typeof(T).Name}");
        }
    }

    [TestCase(ConvPadding.Zero, GramMethod.Blocked)]
    [TestCase(ConvPadding.Circular, GramMethod.Blocked)]
    [TestCase(ConvPadding.Circular, GramMethod.Fourier)]
    [TestCase(ConvPadding.Circular, GramMethod.Auto)]
    public void EachMethodGivesTheEquilibriumAndGradientsOfTwoConvolutionsInFloat64(ConvPadding padding, GramMethod gram)
        => AssertSameAsConvs<double>(padding, gram);

    [TestCase(ConvPadding.Zero, GramMethod.Blocked)]
    [TestCase(ConvPadding.Circular, GramMethod.Blocked)]
    [TestCase(ConvPadding.Circular, GramMethod.Fourier)]
    public void EachMethodGivesTheEquilibriumAndGradientsOfTwoConvolutionsInFloat32(ConvPadding padding, GramMethod gram)
        => AssertSameAsConvs<float>(padding, gram);

    [TestCase(GramMethod.Blocked)]
    [TestCase(GramMethod.Fourier)]
    public void WithTheTrainingSolversEachMethodConvergesToTheSameEquilibriumAndGradients(GramMethod gram)
    {
        // Anderson forward and CG adjoint, as training runs them, converged to 10⁻¹³: the methods agree to the solves' tolerance.
        ConvOptEqLayerOptions Options(GramMethod g) => ConvOpsGradientTests.Exact(ConvPadding.Circular) with { Gram = g };
        var expected = ReplayedStep<double>(Options(GramMethod.Convolutions));
        var actual = ReplayedStep<double>(Options(gram));
        Assert.That(Distance(actual.Output, expected.Output), Is.LessThanOrEqualTo(1e-10 * Norm(expected.Output)), "z*");
        for (int p = 0; p < expected.Grads.Length; p++)
            Assert.That(Distance(actual.Grads[p], expected.Grads[p]), Is.LessThanOrEqualTo(1e-9 * Norm(expected.Grads[p])), $"gradient of parameter {p}");
    }

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    public void SmallBlocksSolveAsTwoConvolutions(int rowsPerBlock)
    {
        // The layers' batches here fit one cache block; this runs the solves over several blocks (the last one short).
        const int batch = 5;
        var g = new Conv2dGeometry(3, 5, 4, 3, 3, 3, 1, 1, ConvPadding.Zero);
        var rng = new Random(4);
        using var weight = _device.FromArray(Enumerable.Range(0, 3 * g.WeightColumns).Select(_ => 0.2 * (rng.NextDouble() - 0.5)).ToArray(), 3, g.WeightColumns);
        using var c = _device.FromArray(Enumerable.Range(0, batch * g.InputSize).Select(_ => rng.NextDouble() - 0.5).ToArray(), batch, g.InputSize);
        using var z0 = _device.Allocate<double>(batch, g.InputSize);
        _device.Fill(z0, 0.0);
        using var gradient = _device.FromArray(Enumerable.Range(0, batch * g.InputSize).Select(i => Math.Cos(i)).ToArray(), batch, g.InputSize);
        (double[] Z, double[] Adjoint) Solve(OperatorOptEqMap<double> map)
        {
            using var z = SolverRegistry.Solve(map, z0, new SolverOptions { Solver = ForwardSolvers.Anderson, MaxIterations = 200, Tolerance = 1e-14 });
            map.PrepareAdjoint(z.Solution);
            using var w = AdjointSolvers.ConjugateGradient.Solve(map, gradient, new SolverOptions { MaxIterations = 200, Tolerance = 1e-14 });
            return (z.Solution.ToArray(), w.Solution.ToArray());
        }
        using var convs = new OperatorOptEqMap<double>(Activation.ReLU, new Conv2dOperator<double>(g, weight), c, 0.9);
        using var blocked = OperatorOptEqMap<double>.WithMetric(Activation.ReLU,
            new BlockedGramOperator<double>(new Conv2dOperator<double>(g, weight), batch, rowsPerBlock), c, 0.9);
        var expected = Solve(convs);
        var actual = Solve(blocked);
        Assert.That(actual.Z, Is.EqualTo(expected.Z).Within(1e-13), "z*");
        Assert.That(actual.Adjoint, Is.EqualTo(expected.Adjoint).Within(1e-13), "the adjoint");
    }

    [TestCase(ConvPadding.Zero, 32, DeviceKind.NativeCpu, false, GramMethod.Blocked)]
    [TestCase(ConvPadding.Circular, 32, DeviceKind.NativeCpu, false, GramMethod.Blocked)]
    [TestCase(ConvPadding.Circular, 47, DeviceKind.NativeCpu, false, GramMethod.Blocked)]
    [TestCase(ConvPadding.Circular, 48, DeviceKind.NativeCpu, false, GramMethod.Fourier)]
    [TestCase(ConvPadding.Circular, 64, DeviceKind.NativeCpu, false, GramMethod.Fourier)]
    [TestCase(ConvPadding.Zero, 64, DeviceKind.NativeCpu, false, GramMethod.Convolutions)]
    [TestCase(ConvPadding.Zero, 32, DeviceKind.NativeCpu, true, GramMethod.Convolutions)]
    [TestCase(ConvPadding.Circular, 32, DeviceKind.NativeCpu, true, GramMethod.Convolutions)]
    [TestCase(ConvPadding.Circular, 64, DeviceKind.NativeCpu, true, GramMethod.Convolutions)]
    [TestCase(ConvPadding.Circular, 64, DeviceKind.Cuda, false, GramMethod.Convolutions)]
    [TestCase(ConvPadding.Zero, 32, DeviceKind.IlgpuCpu, false, GramMethod.Convolutions)]
    public void AutoPicksByTheDocumentedRule(ConvPadding padding, int channels, DeviceKind device, bool winograd, GramMethod expected)
    {
        var w = new Conv2dGeometry(channels, 14, 14, channels, 3, 3, 1, 1, padding);
        Assert.That(GramMethods.Resolve(GramMethod.Auto, w, device, winograd), Is.EqualTo(expected));
        foreach (var given in new[] { GramMethod.Convolutions, GramMethod.Blocked, GramMethod.Fourier })
            Assert.That(GramMethods.Resolve(given, w, device, winograd), Is.EqualTo(given), "an explicit method is kept");
    }

    [Test]
    public void AutoKnowsWhenTheNativeBackendRunsWinograd()
    {
        Assume.That(System.Runtime.Intrinsics.X86.Fma.IsSupported && System.Runtime.Intrinsics.X86.Avx2.IsSupported, "Winograd needs AVX2 + FMA");
        var w = new Conv2dGeometry(32, 14, 14, 32, 3, 3, 1, 1, ConvPadding.Circular);
        Assert.That(GramMethods.Resolve<float>(GramMethod.Auto, w, DeviceKind.NativeCpu), Is.EqualTo(GramMethod.Convolutions), "float32: Winograd");
        Assert.That(GramMethods.Resolve<double>(GramMethod.Auto, w, DeviceKind.NativeCpu), Is.EqualTo(GramMethod.Blocked), "float64: no Winograd");
        var five = new Conv2dGeometry(32, 14, 14, 32, 5, 5, 1, 2, ConvPadding.Circular);
        Assert.That(GramMethods.Resolve<float>(GramMethod.Auto, five, DeviceKind.NativeCpu), Is.EqualTo(GramMethod.Blocked), "5×5: no Winograd");
    }

    [Test]
    public void TheLayerResolvesAutoAndMakesTheOperatorOfItsMethod()
    {
        using var layer = new ConvOptEqLayer<float>(_device, "conv", FixedIterations(ConvPadding.Circular, GramMethod.Auto), new Random(1));
        var expected = GramMethods.Resolve(GramMethod.Auto, layer.HiddenGeometry, DeviceKind.NativeCpu, OptEq.Kernels.Native.NativeConvolution.UsesWinograd(layer.HiddenGeometry));
        Assert.That(layer.Gram, Is.EqualTo(expected), "4 channels on the CPU: two convolutions where they run Winograd, else blocked");
        var g = new Conv2dGeometry(4, 6, 5, 4, 3, 3, 1, 1, ConvPadding.Circular);
        using var weight = _device.Allocate<float>(4, g.WeightColumns);
        _device.Fill(weight, 0.1f);
        var w = new Conv2dOperator<float>(g, weight);
        foreach (var (method, type) in new[] { (GramMethod.Convolutions, typeof(GramOperator<float>)), (GramMethod.Blocked, typeof(BlockedGramOperator<float>)), (GramMethod.Fourier, typeof(FourierGramOperator<float>)) })
        {
            using var op = GramMethods.Create(method, w, 2);
            Assert.That(op, Is.TypeOf(type), method.ToString());
        }
    }

    [Test]
    public void TheFourierMethodNeedsCircularPaddingAndSaysSo()
    {
        var refused = Assert.Throws<ArgumentException>(() => FixedIterations(ConvPadding.Zero, GramMethod.Fourier).Validate())!;
        Assert.That(refused.Message, Does.Contain("fourier").And.Contain("circular padding"));
        var g = new Conv2dGeometry(4, 6, 6, 4, 3, 3, 1, 1, ConvPadding.Zero);
        using var weight = _device.Allocate<float>(4, g.WeightColumns);
        Assert.That(() => GramMethods.Create(GramMethod.Fourier, new Conv2dOperator<float>(g, weight), 2),
            Throws.ArgumentException.With.Message.Contains("circulant"));
        var config = new ModelConfig
        {
            Model = ModelKind.ConvOptEq, Input = 64, Classes = 10,
            Conv = new ConvModelOptions { Channels = [3], Padding = ConvPadding.Zero, Gram = GramMethod.Fourier },
        };
        Assert.That(() => config.Validate(), Throws.ArgumentException.With.Message.Contains("fourier"));
    }

    [Test]
    public void OnlyConvOptEqTakesAMethod()
    {
        var config = new ModelConfig
        {
            Model = ModelKind.MultiTierOptEq, Input = 64, Classes = 10,
            Conv = new ConvModelOptions { Channels = [2, 3], Gram = GramMethod.Blocked },
        };
        Assert.That(() => config.Validate(), Throws.ArgumentException.With.Message.Contains("conv-opteq setting"));
    }

    [Test]
    public void NamesRoundTripAndAnUnknownOneIsRefused()
    {
        foreach (var method in Enum.GetValues<GramMethod>())
        {
            Assert.That(GramMethods.TryParse(GramMethods.Name(method), out var parsed), Is.True);
            Assert.That(parsed, Is.EqualTo(method));
        }
        Assert.That(GramMethods.NameList, Is.EqualTo("auto|convs|blocked|fourier"));
        Assert.That(GramMethods.TryParse("fft", out _), Is.False);
        Assert.That(GramMethods.TryParse("Fourier", out _), Is.False, "names are exact, as the command line writes them");
    }

    private static ModelConfig ConvConfig(GramMethod gram) => new()
    {
        Model = ModelKind.ConvOptEq, Input = 64, Classes = 10, Seed = 3,
        Conv = new ConvModelOptions { Channels = [3], Padding = ConvPadding.Circular, InjectionStride = 2, Pool = 2, Gram = gram },
    };

    [TestCase(GramMethod.Auto, "auto")]
    [TestCase(GramMethod.Convolutions, "convs")]
    [TestCase(GramMethod.Blocked, "blocked")]
    [TestCase(GramMethod.Fourier, "fourier")]
    public void TheMethodIsStoredInTheConfigurationAndItsSpec(GramMethod gram, string name)
    {
        var json = ConvConfig(gram).ToJson();
        Assert.That(json, Does.Contain($"\"gram\":\"{name}\""));
        var read = ModelConfig.FromJson(json, "cfg.json");
        Assert.That(read, Is.EqualTo(ConvConfig(gram)));
        Assert.That(read.Conv!.Gram, Is.EqualTo(gram));
        Assert.That(((ConvOptEqSpec)read.Spec.Layers[0]).Gram, Is.EqualTo(gram));
    }

    [Test]
    public void AConfigurationWrittenBeforeTheMethodExistedMeansTwoConvolutions()
    {
        // What older builds wrote: no "gram" under "conv" nor in the layer spec (nor "headTiers", which came just before).
        var json = ConvConfig(GramMethod.Fourier).ToJson()
            .Replace(",\"gram\":\"fourier\"", "", StringComparison.Ordinal).Replace(",\"headTiers\":1", "", StringComparison.Ordinal);
        Assert.That(json, Does.Not.Contain("gram").And.Not.Contain("headTiers"));
        var read = ModelConfig.FromJson(json, "old.json");
        Assert.That(read.Conv!.Gram, Is.EqualTo(GramMethod.Convolutions));
        Assert.That(((ConvOptEqSpec)read.Spec.Layers[0]).Gram, Is.EqualTo(GramMethod.Convolutions));
    }

    [Test]
    public void AnUnknownMethodInTheConfigurationIsAnErrorNamingIt()
    {
        var json = ConvConfig(GramMethod.Fourier).ToJson().Replace("\"gram\":\"fourier\"", "\"gram\":\"fft\"", StringComparison.Ordinal);
        var refused = Assert.Throws<OptEq.Autodiff.Validation.InputException>(() => ModelConfig.FromJson(json, "bad.json"))!;
        Assert.That(refused.Message, Does.Contain("bad.json").And.Contain("'fft' is not a WᵀW method"));
    }
}
