using OptEq.Autodiff.Layers;
using OptEq.Kernels.Activations;
using OptEq.Solvers;
using OptEq.Solvers.Operators;

namespace OptEq.Autodiff.Checks;

/// <summary>
/// The built-in gradient checks that <c>opteq check gradients</c> runs: every op, and every layer with every backward
/// mode that claims exactness, on small random float64 problems on the native CPU backend. Solves run to 1e-13 so
/// that finite differences with h = 1e-6 resolve errors well below the 1e-6 bar.
/// </summary>
public static class GradientCheckSuite
{
    private static readonly SolverOptions TightForward = new() { Solver = ForwardSolvers.Anderson, MaxIterations = 400, Tolerance = 1e-13, Stop = StopCriterion.Absolute, RecordTrace = false };
    private static readonly SolverOptions TightAdjoint = new() { MaxIterations = 400, Tolerance = 1e-13, Stop = StopCriterion.Absolute, RecordTrace = false };

    public static IEnumerable<GradientCheckResult> RunAll(Device device)
    {
        foreach (var r in Ops(device)) yield return r;
        foreach (var r in Layers(device)) yield return r;
    }

    private static Tensor<double> Random(Device device, Random rng, double scale, params int[] shape)
    {
        long n = shape.Aggregate(1L, (a, b) => a * b);
        var data = new double[n];
        for (int i = 0; i < n; i++) data[i] = scale * (2 * rng.NextDouble() - 1);
        return device.FromArray<double>(data, shape);
    }

    /// <summary>Checks a function of leaf tensors (the op checks).</summary>
    private static GradientCheckResult CheckFunction(Device device, string target, Tensor<double>[] inputs, Func<Variable<double>[], Variable<double>> f)
    {
        var variables = new Variable<double>[inputs.Length];
        var leaves = inputs.Select((t, i) => ($"x{i}", t, (Func<Tensor<double>?>)(() => variables[i].Grad))).ToList();
        var result = GradientCheck.Check(target, "exact", device, tape =>
        {
            for (int i = 0; i < inputs.Length; i++) variables[i] = tape.Leaf(inputs[i]);
            return f(variables);
        }, leaves, () => { });
        foreach (var t in inputs) t.Dispose();
        return result;
    }

    public static IEnumerable<GradientCheckResult> Ops(Device device)
    {
        var rng = new Random(1);
        Tensor<double> R(params int[] shape) => Random(device, rng, 1, shape);
        foreach (var (ta, tb) in new[] { (false, false), (false, true), (true, false), (true, true) })
            yield return CheckFunction(device, $"matmul{(ta ? "-ta" : "")}{(tb ? "-tb" : "")}", [ta ? R(5, 3) : R(3, 5), tb ? R(4, 5) : R(5, 4)],
                v => Autodiff.Ops.MatMul(v[0], v[1], ta, tb));
        yield return CheckFunction(device, "add-bias", [R(4, 6), R(6)], v => Autodiff.Ops.AddBias(v[0], v[1]));
        yield return CheckFunction(device, "add", [R(3, 4), R(3, 4)], v => Autodiff.Ops.Add(v[0], v[1]));
        yield return CheckFunction(device, "sub", [R(3, 4), R(3, 4)], v => Autodiff.Ops.Sub(v[0], v[1]));
        yield return CheckFunction(device, "mul", [R(3, 4), R(3, 4)], v => Autodiff.Ops.Mul(v[0], v[1]));
        yield return CheckFunction(device, "scale", [R(3, 4)], v => Autodiff.Ops.Scale(v[0], 0.7));
        foreach (var activation in new[] { Activation.ReLU, Activation.LeakyReLU(0.1), Activation.Tanh, Activation.Sigmoid, Activation.Softplus, Activation.SoftThreshold(0.2), Activation.HardTanh, Activation.ReLU.Clip(0, 0.5) })
            yield return CheckFunction(device, $"activation-{activation}", [R(4, 7)], v => Autodiff.Ops.Activate(v[0], activation));
        yield return CheckFunction(device, "reshape", [R(3, 4)], v => Autodiff.Ops.Reshape(v[0], 2, 6));
        yield return CheckFunction(device, "slice-rows", [R(5, 3)], v => Autodiff.Ops.SliceRows(v[0], 1, 3));
        yield return CheckFunction(device, "slice-columns", [R(3, 6)], v => Autodiff.Ops.SliceColumns(v[0], 2, 3));
        yield return CheckFunction(device, "concat-columns", [R(3, 2), R(3, 4)], v => Autodiff.Ops.ConcatColumns(v[0], v[1]));
        yield return CheckFunction(device, "transpose", [R(3, 5)], v => Autodiff.Ops.Transpose(v[0]));
        yield return CheckFunction(device, "assemble-blocks", [R(2, 2), R(3, 2)], v => Autodiff.Ops.AssembleBlocks(5, 4, (v[0], 0, 0), (v[1], 2, 1)));
        yield return CheckFunction(device, "sum", [R(3, 4)], v => Autodiff.Ops.Sum(v[0]));
        yield return CheckFunction(device, "mean", [R(3, 4)], v => Autodiff.Ops.Mean(v[0]));
        foreach (var (stride, mode) in new[] { (1, ConvPadding.Zero), (2, ConvPadding.Zero), (1, ConvPadding.Circular) })
        {
            var g = new Conv2dGeometry(2, 5, 5, 3, 3, 3, stride, 1, mode);
            yield return CheckFunction(device, $"conv2d-stride{stride}-{mode.ToString().ToLowerInvariant()}", [R(2, g.InputSize), R(3, g.WeightColumns), R(3)],
                v => Autodiff.Ops.Conv2d(v[0], v[1], v[2], g));
        }
        yield return CheckFunction(device, "avgpool2d", [R(3, 2 * 5 * 5)], v => Autodiff.Ops.AvgPool2d(v[0], new Pool2dGeometry(2, 5, 5, 2, 2)));
        yield return CheckFunction(device, "scale-to-norm-frobenius", [R(4, 4)], v => Autodiff.Ops.ScaleToNorm(v[0], 0.9, NormKind.Frobenius));
        using (var labels = device.FromArray<int>([2, 0, 4, 1], 4))
            yield return CheckFunction(device, "softmax-cross-entropy", [R(4, 5)], v => Autodiff.Ops.SoftmaxCrossEntropy(v[0], labels, out _));
        using (var labels = device.FromArray<int>([2, 0, 4, 1], 4))
        using (var centres = device.FromArray(Losses.MaxMahalanobisCentres.Build(5, 5, 2), 5, 5))
            yield return CheckFunction(device, "mmc-loss", [R(4, 5)], v => Autodiff.Ops.MmcLoss(v[0], labels, centres, out _));
    }

    public static IEnumerable<GradientCheckResult> Layers(Device device)
    {
        const int batch = 3, input = 5, hidden = 6;
        var rng = new Random(2);
        var x = Random(device, rng, 1, batch, input);
        try
        {
            var exactModes = new[]
            {
                new BackwardOptions { Mode = BackwardMode.Implicit, Adjoint = AdjointSolvers.ConjugateGradient, AdjointOptions = TightAdjoint },
                new BackwardOptions { Mode = BackwardMode.Implicit, Adjoint = AdjointSolvers.Anderson, AdjointOptions = TightAdjoint },
                new BackwardOptions { Mode = BackwardMode.Implicit, Adjoint = AdjointSolvers.FixedPoint, AdjointOptions = TightAdjoint with { MaxIterations = 2000 } },
                new BackwardOptions { Mode = BackwardMode.Unrolled, Steps = 4 },
            };
            using (var linear = new Linear<double>(device, "linear", input, 4, new Random(3)))
                yield return GradientCheck.CheckLayer("linear", "exact", linear, x);

            foreach (var activation in new[] { Activation.Tanh, Activation.Softplus, Activation.ReLU })
                foreach (var mode in exactModes)
                {
                    var options = new OptEqLayerOptions { Input = input, Hidden = hidden, Activation = activation, Gamma = 0.9, Forward = TightForward, Backward = mode };
                    using var layer = new OptEqLayer<double>(device, "opteq", options, new Random(4));
                    yield return GradientCheck.CheckLayer($"opteq-{activation}", mode.ToString(), layer, x);
                }
            using (var spectral = new OptEqLayer<double>(device, "opteq", new OptEqLayerOptions { Input = input, Hidden = hidden, Activation = Activation.Tanh, Norm = NormKind.Spectral, Forward = TightForward, Backward = exactModes[0] }, new Random(5)))
            {
                // The derivative u·vᵀ of σ_max assumes exact singular vectors: converge the power iteration at every forward.
                spectral.PowerIteration!.StepsPerForward = 300;
                yield return GradientCheck.CheckLayer("opteq-tanh-spectral", exactModes[0].ToString(), spectral, x);
            }
            var priors = new ObjectivePriors { L2 = 0.3, L1 = 0.05, Box = (0, 0.8) };
            using (var prior = new OptEqLayer<double>(device, "opteq", new OptEqLayerOptions { Input = input, Hidden = hidden, Activation = Activation.ReLU, Priors = priors, Forward = TightForward, Backward = exactModes[0] }, new Random(6)))
                yield return GradientCheck.CheckLayer("opteq-relu-priors", exactModes[0].ToString(), prior, x);
            using (var deep = new DeepOptEqLayer<double>(device, "deep", input, [4, 3, 3], new Random(7), Activation.Tanh, 0.9, NormKind.Frobenius, false, TightForward, exactModes[0]))
                yield return GradientCheck.CheckLayer("deep-opteq-tanh", exactModes[0].ToString(), deep, x);
            foreach (var mode in exactModes.Skip(1))
            {
                using var idl = new ImplicitLayer<double>(device, "idl", input, hidden, 4, new Random(8), Activation.Tanh, 0.9, TightForward, mode);
                yield return GradientCheck.CheckLayer("idl-tanh", mode.ToString(), idl, x);
            }
            foreach (var mode in exactModes.Skip(1))
            {
                using var mon = new MonotoneLayer<double>(device, "mon", input, hidden, new Random(9), Activation.ReLU, 1.0,
                    new SolverOptions { Solver = ForwardSolvers.PeacemanRachford, MaxIterations = 2000, Tolerance = 1e-13, Stop = StopCriterion.Absolute, RecordTrace = false }, mode);
                yield return GradientCheck.CheckLayer("mon-relu", mode.ToString(), mon, x);
            }
            foreach (var r in ConvLayers(device)) yield return r;
            // Models composed from specs: an explicit network, and equilibrium layers between linear ones.
            var mlp = new Models.ModelConfig { Model = Models.ModelKind.Mlp, Input = input, Classes = 4, Layers = [6, 5], Activation = Activation.Tanh, Seed = 11 };
            using (var model = new Models.Classifier<double>(device, mlp))
                yield return GradientCheck.CheckLayer("model-mlp-tanh", "exact", model, x);
            var composed = new Models.ModelSpec
            {
                Input = input,
                Layers =
                [
                    new Models.LinearSpec { Name = "in", Output = hidden },
                    new Models.OptEqSpec { Name = "opteq", Hidden = hidden, Activation = Activation.Tanh, Gamma = 0.9, Forward = TightForward, Backward = exactModes[0] },
                    new Models.MonotoneSpec { Name = "mon", Hidden = 4, Activation = Activation.Softplus, Forward = TightForward with { Solver = ForwardSolvers.PeacemanRachford, MaxIterations = 2000 }, Backward = exactModes[1] },
                    new Models.LinearSpec { Name = "head", Output = 3 },
                ],
            };
            using (var model = new Models.Classifier<double>(device, new Models.ModelConfig { Model = Models.ModelKind.Custom, Input = input, Classes = 3, Spec = composed, Seed = 12 }))
                yield return GradientCheck.CheckLayer("model-linear-opteq-mon-linear", "exact", model, x);
            foreach (var mode in exactModes.Skip(1))
            {
                using var deq = GenericDeq(device, input, hidden, mode);
                yield return GradientCheck.CheckLayer("deq-generic", mode.ToString(), deq, x);
            }
        }
        finally { x.Dispose(); }
    }

    /// <summary>
    /// The convolutional equilibrium layers on 2×5×5 (or 1×6×6) images: conv-opteq (zero and circular padding, each WᵀW
    /// method; σ exact by 2,000 power steps), multi-tier OptEq (tiers 2, 3), and the monotone conv peer (circular padding, pooled).
    /// </summary>
    private static IEnumerable<GradientCheckResult> ConvLayers(Device device)
    {
        var rng = new Random(13);
        var cg = new BackwardOptions { Mode = BackwardMode.Implicit, Adjoint = AdjointSolvers.ConjugateGradient, AdjointOptions = TightAdjoint };
        var anderson = new BackwardOptions { Mode = BackwardMode.Implicit, Adjoint = AdjointSolvers.Anderson, AdjointOptions = TightAdjoint };
        using var image = Random(device, rng, 0.5, 2, 2 * 5 * 5);
        // Each WᵀW method the solves can use (the fourier one needs circular padding); convs keeps the plain target name.
        foreach (var (padding, gram) in new[] { (ConvPadding.Zero, GramMethod.Convolutions), (ConvPadding.Zero, GramMethod.Blocked),
                     (ConvPadding.Circular, GramMethod.Convolutions), (ConvPadding.Circular, GramMethod.Blocked), (ConvPadding.Circular, GramMethod.Fourier) })
        {
            var options = new ConvOptEqLayerOptions
            {
                InChannels = 2, Height = 5, Width = 5, Channels = 3, KernelSize = 3, Padding = padding, InjectionStride = 1, Gamma = 0.9,
                PowerSteps = 2000, Forward = TightForward, Backward = cg, Gram = gram,
            };
            using var layer = new ConvOptEqLayer<double>(device, "conv", options, new Random(14));
            string method = gram == GramMethod.Convolutions ? "" : "-" + GramMethods.Name(gram);
            yield return GradientCheck.CheckLayer($"conv-opteq-relu-{padding.ToString().ToLowerInvariant()}{method}", cg.ToString(), layer, image);
        }
        using (var tiers = new MultiTierOptEqLayer<double>(device, "tiers", new MultiTierOptEqLayerOptions
        {
            InChannels = 1, Height = 6, Width = 6, Channels = [2, 3], KernelSize = 3, InjectionStride = 1, Gamma = 0.9, PowerSteps = 2000,
            Forward = TightForward, Backward = cg,
        }, new Random(15)))
        using (var small = Random(device, rng, 0.5, 2, 36))
            yield return GradientCheck.CheckLayer("multitier-opteq-relu", cg.ToString(), tiers, small);
        using (var mon = new MonotoneConvLayer<double>(device, "mon", new MonotoneConvLayerOptions
        {
            InputChannels = 2, Height = 5, Width = 5, Channels = 3, KernelSize = 3, Padding = ConvPadding.Circular, Pool = 1, Margin = 0.5,
            Activation = Activation.Tanh, Forward = TightForward, Backward = anderson,
        }, new Random(16)))
            yield return GradientCheck.CheckLayer("conv-mon-tanh", anderson.ToString(), mon, image);
    }

    /// <summary>A user-style DEQ: T(z, x) = tanh(0.5·z·Wᵀ + x·Uᵀ + b), written with tape ops.</summary>
    private static DeqLayer<double> GenericDeq(Device device, int input, int hidden, BackwardOptions mode)
    {
        var rng = new Random(10);
        var w = new Parameter<double>("deq.W", Random(device, rng, 0.4, hidden, hidden));
        var u = new Parameter<double>("deq.U", Random(device, rng, 0.5, hidden, input));
        var b = new Parameter<double>("deq.b", Random(device, rng, 0.5, hidden));
        var layer = new DeqLayer<double>((z, x) =>
        {
            var tape = z.Tape;
            var mix = Autodiff.Ops.Add(Autodiff.Ops.Scale(Autodiff.Ops.MatMul(z, tape.Param(w), transB: true), 0.5), Autodiff.Ops.Affine(x, tape.Param(u), tape.Param(b)));
            return Autodiff.Ops.Activate(mix, Activation.Tanh);
        }, [w, u, b], hidden, TightForward, mode, ownsParameters: true);
        return layer;
    }
}
