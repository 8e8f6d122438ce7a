using OptEq.Kernels.Activations;
using OptEq.Solvers;
using OptEq.Solvers.Operators;

namespace OptEq.Autodiff.Layers;

/// <summary>Options of a multi-tier OptEq layer, validated when built. Images are NCHW rows ([batch, C·H·W]).</summary>
public sealed record MultiTierOptEqLayerOptions
{
    private readonly double _gamma = 0.95;

    /// <summary>The input image: channels, height, width.</summary>
    public required int InChannels { get; init; }
    public required int Height { get; init; }
    public required int Width { get; init; }
    /// <summary>Channels per tier, C_1 … C_L (tier i+1 at half the resolution of tier i).</summary>
    public required int[] Channels { get; init; }
    /// <summary>The kernel size of every block and of the input convolution U (odd: "same" padding k/2).</summary>
    public int KernelSize { get; init; } = 3;
    /// <summary>The diagonal blocks' padding: zero or circular (the stride-2 blocks and U pad with zeros).</summary>
    public ConvPadding Padding { get; init; } = ConvPadding.Zero;
    /// <summary>U's stride: 2 puts tier 1 at half the image's resolution.</summary>
    public int InjectionStride { get; init; } = 1;
    public Activation Activation { get; init; } = Activation.ReLU;
    /// <summary>The bound γ &lt; 1 on ||W||₂ of the whole block operator (so ρ ≤ γ²).</summary>
    public double Gamma { get => _gamma; init => _gamma = OptEqLayerOptions.CheckGamma(value); }
    /// <summary>Power steps on VᵀV per forward pass (the vectors persist across steps).</summary>
    public int PowerSteps { get; init; } = 2;
    /// <summary>How many of the last tiers the layer outputs, 1 … L (they are contiguous at the end of z).</summary>
    public int HeadTiers { get; init; } = 1;
    /// <summary>Priors on the objective (docs/math.md §1.4); the quadratic prior needs a dense P and is not available here.</summary>
    public ObjectivePriors Priors { get; init; } = new();
    public SolverOptions Forward { get; init; } = new() { Solver = ForwardSolvers.Anderson, MaxIterations = 50, Tolerance = 1e-4 };
    public BackwardOptions Backward { get; init; } = new() { Adjoint = AdjointSolvers.ConjugateGradient };

    /// <summary>U: InChannels → C_1, stride <see cref="InjectionStride"/>, zero padding k/2.</summary>
    public Conv2dGeometry InjectionGeometry => new(InChannels, Height, Width, Channels[0], KernelSize, KernelSize, InjectionStride, KernelSize / 2);

    /// <summary>The tiers: tier 1 at U's output resolution.</summary>
    public MultiTierGeometry Tiers
    {
        get
        {
            var u = InjectionGeometry;
            return MultiTierGeometry.Build(Channels, u.OutHeight, u.OutWidth, KernelSize, Padding);
        }
    }

    /// <summary>Features per sample of the output: the last <see cref="HeadTiers"/> tiers, Σ C_i·H_i·W_i.</summary>
    public int OutputSize
    {
        get
        {
            var sizes = Tiers.Sizes;
            int sum = 0;
            for (int i = sizes.Count - HeadTiers; i < sizes.Count; i++) sum += sizes[i];
            return sum;
        }
    }

    /// <summary>Checks the sizes; an <see cref="ArgumentException"/> names the problem.</summary>
    public void Validate()
    {
        if (InChannels < 1 || Height < 1 || Width < 1) throw new ArgumentOutOfRangeException(nameof(Height), "the input image needs channels, height and width ≥ 1");
        if (Channels is null || Channels.Length < 1) throw new ArgumentException("a multi-tier layer needs at least one tier (channels)");
        foreach (int c in Channels) if (c < 1) throw new ArgumentOutOfRangeException(nameof(Channels), c, "every tier's channels must be ≥ 1");
        if (KernelSize < 1 || KernelSize % 2 == 0) throw new ArgumentOutOfRangeException(nameof(KernelSize), KernelSize, "the kernel size must be odd and ≥ 1 (same padding k/2)");
        if (InjectionStride < 1) throw new ArgumentOutOfRangeException(nameof(InjectionStride), InjectionStride, "the injection stride must be ≥ 1");
        if (PowerSteps < 1) throw new ArgumentOutOfRangeException(nameof(PowerSteps), PowerSteps, "power steps must be ≥ 1");
        if (HeadTiers < 1 || HeadTiers > Channels.Length)
            throw new ArgumentOutOfRangeException(nameof(HeadTiers), HeadTiers, $"the head reads 1 … {Channels.Length} of the last tiers");
        if (Priors.Quadratic is not null) throw new NotSupportedException("the quadratic prior needs a dense P; the multi-tier layer supports the ℓ2, ℓ1 and box priors");
        _ = Tiers; // validated by the geometries
    }
}

/// <summary>
/// The multi-tier (deep) OptEq layer (docs/math.md §1.8): z* = argmin G(z; x) = σ(WᵀW z* + c) with W the lower
/// block-bidiagonal operator of <see cref="MultiTierOperator{T}"/> (convolutions D_i on the diagonal, stride-2
/// convolutions S_i below it), reparameterised as a whole, W = γ·V/σ(V), so ||W||₂ ≤ γ. The injection U∗x + b_1 enters
/// tier 1, a per-channel bias b_i every other tier. Outputs the last tier of z*, [batch, C_L·H_L·W_L], or the last
/// <see cref="MultiTierOptEqLayerOptions.HeadTiers"/> tiers side by side.
/// </summary>
public sealed class MultiTierOptEqLayer<T> : IEquilibriumLayer<T>, IDisposable where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Conv2dGeometry _injection;
    private readonly MultiTierGeometry _tiers;
    private readonly MultiTierOperator<T> _operatorOfV;
    private readonly OperatorPowerIterationState<T> _power;
    private readonly Parameter<T>[] _blocks, _biases;

    public MultiTierOptEqLayer(Device device, string name, MultiTierOptEqLayerOptions options, Random rng)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        _injection = options.InjectionGeometry;
        _tiers = options.Tiers;
        int l = _tiers.Diagonal.Count;
        _blocks = new Parameter<T>[2 * l - 1];
        for (int i = 0; i < _blocks.Length; i++)
        {
            var g = i < l ? _tiers.Diagonal[i] : _tiers.Below[i - l];
            string block = i < l ? $"D{i + 1}" : $"S{i - l + 2}";
            _blocks[i] = new Parameter<T>($"{name}.{block}", Init.Uniform<T>(device, rng, 1 / Math.Sqrt(g.WeightColumns), g.OutChannels, g.WeightColumns));
        }
        double bound = 1 / Math.Sqrt(_injection.WeightColumns);
        U = new Parameter<T>($"{name}.U", Init.Uniform<T>(device, rng, bound, _injection.OutChannels, _injection.WeightColumns));
        _biases = new Parameter<T>[l];
        for (int i = 0; i < l; i++)
            _biases[i] = new Parameter<T>($"{name}.b{i + 1}", Init.Uniform<T>(device, rng, bound, options.Channels[i])) { NoWeightDecay = true };
        _operatorOfV = new MultiTierOperator<T>(_tiers, [.. _blocks.Select(b => b.Value)]);
        _power = new OperatorPowerIterationState<T>(device, _tiers.Size, _tiers.Size, rng.Next()) { StepsPerForward = options.PowerSteps };
    }

    public MultiTierOptEqLayerOptions Options { get; }
    public MultiTierGeometry Tiers => _tiers;
    /// <summary>Features per sample of the whole state z: Σ C_i·H_i·W_i.</summary>
    public int StateSize => _tiers.Size;
    /// <summary>Features per sample of the output (the last <see cref="MultiTierOptEqLayerOptions.HeadTiers"/> tiers).</summary>
    public int OutputSize => Options.OutputSize;
    /// <summary>The persistent power iteration on V's block operator.</summary>
    public OperatorPowerIterationState<T> PowerIteration => _power;
    /// <summary>V's blocks: D_1 … D_L, S_2 … S_L.</summary>
    public IReadOnlyList<Parameter<T>> Blocks => _blocks;
    public IReadOnlyList<Parameter<T>> Biases => _biases;
    public Parameter<T> U { get; }
    public EquilibriumReport Report { get; } = new();
    /// <summary>The whole equilibrium state z* of the last forward pass (for tests and inspection).</summary>
    public Variable<T>? State { get; private set; }

    public Variable<T> Forward(Variable<T> x)
    {
        var tape = x.Tape;
        int batch = x.Shape[0];
        var parts = new Variable<T>[_tiers.Diagonal.Count];
        parts[0] = Ops.Conv2d(x, tape.Param(U), tape.Param(_biases[0]), _injection);
        for (int i = 1; i < parts.Length; i++)
        {
            // b_i broadcast over tier i's pixels: a 1×1 convolution of a zero image with a zero kernel, plus the bias
            // (the tested convolution op gives the forward and the per-channel gradient sum).
            var g = new Conv2dGeometry(1, _tiers.Diagonal[i].Height, _tiers.Diagonal[i].Width, Options.Channels[i], 1, 1);
            parts[i] = Ops.Conv2d(tape.Constant(tape.Zeros(batch, g.InputSize)), tape.Constant(tape.Zeros(g.OutChannels, 1)), tape.Param(_biases[i]), g);
        }
        var c = parts.Length == 1 ? parts[0] : Ops.ConcatColumns(parts);
        var v = new Variable<T>[_blocks.Length];
        for (int i = 0; i < v.Length; i++) v[i] = tape.Param(_blocks[i]);
        var w = Ops.ScaleToOperatorNorm(v, _operatorOfV, Options.Gamma, _power);
        var (activation, scale, shift, rho) = Options.Priors.Derive(Options.Activation, Options.Gamma * Options.Gamma, 0);
        if (shift != 0)
        {
            var shiftVector = tape.Rent(StateSize);
            tape.Device.Fill(shiftVector, T.CreateChecked(shift));
            c = Ops.AddBias(c, tape.Constant(shiftVector));
        }
        if (scale != 1)
        {
            // K′ = scale·WᵀW = (√scale·W)ᵀ(√scale·W), c′ = scale·c (docs/math.md §1.4).
            for (int i = 0; i < w.Length; i++) w[i] = Ops.Scale(w[i], T.CreateChecked(Math.Sqrt(scale)));
            c = Ops.Scale(c, T.CreateChecked(scale));
        }
        var spec = new EquilibriumSpec { Activation = activation, SymmetricRho = rho, Forward = Options.Forward, Backward = Options.Backward };
        var tiers = _tiers;
        var z = Ops.OperatorEquilibrium(w, weights => new MultiTierOperator<T>(tiers, weights), c, spec, report: Report);
        State = z;
        // The output tiers are the last HeadTiers blocks of z's columns, contiguous: one slice.
        int first = _tiers.Diagonal.Count - Options.HeadTiers;
        return first == 0 ? z : Ops.SliceColumns(z, _tiers.Starts[first], OutputSize);
    }

    public IEnumerable<Parameter<T>> Parameters() => [.. _blocks, U, .. _biases];

    public void Dispose()
    {
        foreach (var p in _blocks) p.Dispose();
        U.Dispose();
        foreach (var p in _biases) p.Dispose();
        _power.Dispose();
    }
}
