using OptEq.Kernels.Activations;
using OptEq.Solvers;
using OptEq.Solvers.Operators;

namespace OptEq.Autodiff.Layers;

/// <summary>Options of a convolutional OptEq layer, validated when built. Images are NCHW rows ([batch, C·H·W]).</summary>
public sealed record ConvOptEqLayerOptions
{
    private readonly double _gamma = 0.95;

    /// <summary>The input image: channels, height, width.</summary>
    public required int InChannels { get; init; }
    public required int Height { get; init; }
    public required int Width { get; init; }
    /// <summary>Channels of the hidden state (W is a Channels → Channels convolution).</summary>
    public required int Channels { get; init; }
    /// <summary>The kernel size of W and of the input convolution U (odd: "same" padding k/2).</summary>
    public int KernelSize { get; init; } = 3;
    /// <summary>W's padding: zero or circular (U always pads with zeros).</summary>
    public ConvPadding Padding { get; init; } = ConvPadding.Zero;
    /// <summary>
    /// How the solves apply WᵀW (docs/math.md §1.7): two convolutions (the default), cache-blocked, the Fourier domain
    /// (circular padding only), or <see cref="GramMethod.Auto"/> (<see cref="GramMethods.Resolve"/>). The same equilibrium
    /// and gradients up to rounding; only the speed differs.
    /// </summary>
    public GramMethod Gram { get; init; } = GramMethod.Convolutions;
    /// <summary>U's stride: 2 puts the hidden state at half the resolution (a quarter of the cost per iteration).</summary>
    public int InjectionStride { get; init; } = 1;
    public Activation Activation { get; init; } = Activation.ReLU;
    /// <summary>The bound γ &lt; 1 on ||W||₂ as an operator (so ρ ≤ γ²).</summary>
    public double Gamma { get => _gamma; init => _gamma = OptEqLayerOptions.CheckGamma(value); }
    /// <summary>Power steps on VᵀV per forward pass (the vectors persist across steps).</summary>
    public int PowerSteps { get; init; } = 2;
    /// <summary>Priors on the objective (docs/math.md §1.4); the quadratic prior needs a dense P and is not available here.</summary>
    public ObjectivePriors Priors { get; init; } = new();
    public SolverOptions Forward { get; init; } = new() { Solver = ForwardSolvers.Anderson, MaxIterations = 50, Tolerance = 1e-4 };
    public BackwardOptions Backward { get; init; } = new() { Adjoint = AdjointSolvers.ConjugateGradient };

    /// <summary>U: InChannels → Channels, stride <see cref="InjectionStride"/>, zero padding k/2.</summary>
    public Conv2dGeometry InjectionGeometry => new(InChannels, Height, Width, Channels, KernelSize, KernelSize, InjectionStride, KernelSize / 2);
    /// <summary>W: Channels → Channels at the hidden resolution, stride 1, padding k/2 of <see cref="Padding"/>.</summary>
    public Conv2dGeometry HiddenGeometry
    {
        get
        {
            var u = InjectionGeometry;
            return new(Channels, u.OutHeight, u.OutWidth, Channels, KernelSize, KernelSize, 1, KernelSize / 2, Padding);
        }
    }

    /// <summary>Checks the sizes; an <see cref="ArgumentException"/> names the problem.</summary>
    public void Validate()
    {
        if (InChannels < 1 || Height < 1 || Width < 1) throw new ArgumentOutOfRangeException(nameof(Height), "the input image needs channels, height and width ≥ 1");
        if (Channels < 1) throw new ArgumentOutOfRangeException(nameof(Channels), Channels, "channels must be ≥ 1");
        if (KernelSize < 1 || KernelSize % 2 == 0) throw new ArgumentOutOfRangeException(nameof(KernelSize), KernelSize, "the kernel size must be odd and ≥ 1 (same padding k/2)");
        if (InjectionStride < 1) throw new ArgumentOutOfRangeException(nameof(InjectionStride), InjectionStride, "the injection stride must be ≥ 1");
        if (PowerSteps < 1) throw new ArgumentOutOfRangeException(nameof(PowerSteps), PowerSteps, "power steps must be ≥ 1");
        if (Priors.Quadratic is not null) throw new NotSupportedException("the quadratic prior needs a dense P; the convolutional layer supports the ℓ2, ℓ1 and box priors");
        _ = InjectionGeometry; // validated by the geometry record
        if (GramMethods.Problem(Gram, HiddenGeometry) is string problem)
            throw new ArgumentException(Gram == GramMethod.Fourier && Padding != ConvPadding.Circular
                ? "the fourier WᵀW needs circular padding: only a circular convolution is diagonalised by the DFT (use circular padding, or the convs, blocked or auto method)"
                : problem);
    }
}

/// <summary>
/// The convolutional OptEq layer (docs/math.md §1.7): z* = argmin G(z; x) = σ(WᵀW z* + U∗x + b) with W a Channels →
/// Channels convolution reparameterised as W = γ·V/σ(V) (σ the operator norm by persistent power iteration), U the
/// input convolution (stride option), b per channel. The equilibrium is an OptEq map with a convolution operator: the
/// objective, the certificate, FISTA and the CG adjoint all apply. Priors change the map as for the dense layer.
/// Outputs z* [batch, Channels·H′·W′].
/// </summary>
public sealed class ConvOptEqLayer<T> : IEquilibriumLayer<T>, IDisposable where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Conv2dGeometry _injection, _hidden;
    private readonly Conv2dOperator<T> _operatorOfV;
    private readonly OperatorPowerIterationState<T> _power;

    public ConvOptEqLayer(Device device, string name, ConvOptEqLayerOptions options, Random rng)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        _injection = options.InjectionGeometry;
        _hidden = options.HiddenGeometry;
        V = new Parameter<T>($"{name}.V", Init.Uniform<T>(device, rng, 1 / Math.Sqrt(_hidden.WeightColumns), _hidden.OutChannels, _hidden.WeightColumns));
        double bound = 1 / Math.Sqrt(_injection.WeightColumns);
        U = new Parameter<T>($"{name}.U", Init.Uniform<T>(device, rng, bound, _injection.OutChannels, _injection.WeightColumns));
        B = new Parameter<T>($"{name}.b", Init.Uniform<T>(device, rng, bound, options.Channels)) { NoWeightDecay = true };
        _operatorOfV = new Conv2dOperator<T>(_hidden, V.Value);
        Gram = GramMethods.Resolve<T>(options.Gram, _hidden, device.Kind);
        _power = new OperatorPowerIterationState<T>(device, _hidden.InputSize, _hidden.OutputSize, rng.Next()) { StepsPerForward = options.PowerSteps };
    }

    public ConvOptEqLayerOptions Options { get; }
    /// <summary>Features per sample of the hidden state (and of the output): Channels·H′·W′.</summary>
    public int HiddenSize => _hidden.InputSize;
    public Conv2dGeometry HiddenGeometry => _hidden;
    /// <summary>How the solves apply WᵀW: <see cref="ConvOptEqLayerOptions.Gram"/>, with <see cref="GramMethod.Auto"/> resolved for this device.</summary>
    public GramMethod Gram { get; }
    /// <summary>The persistent power iteration on V's operator.</summary>
    public OperatorPowerIterationState<T> PowerIteration => _power;
    public Parameter<T> V { get; }
    public Parameter<T> U { get; }
    public Parameter<T> B { get; }
    public EquilibriumReport Report { get; } = new();

    public Variable<T> Forward(Variable<T> x)
    {
        var tape = x.Tape;
        var c = Ops.Conv2d(x, tape.Param(U), tape.Param(B), _injection);
        var w = Ops.ScaleToOperatorNorm([tape.Param(V)], _operatorOfV, Options.Gamma, _power)[0];
        var (activation, scale, shift, rho) = Options.Priors.Derive(Options.Activation, Options.Gamma * Options.Gamma, 0);
        if (shift != 0)
        {
            var shiftVector = tape.Rent(HiddenSize);
            tape.Device.Fill(shiftVector, T.CreateChecked(shift));
            c = Ops.AddBias(c, tape.Constant(shiftVector));
        }
        if (scale != 1)
        {
            // K′ = scale·WᵀW = (√scale·W)ᵀ(√scale·W), c′ = scale·c (docs/math.md §1.4).
            w = Ops.Scale(w, T.CreateChecked(Math.Sqrt(scale)));
            c = Ops.Scale(c, T.CreateChecked(scale));
        }
        var spec = new EquilibriumSpec { Activation = activation, SymmetricRho = rho, Forward = Options.Forward, Backward = Options.Backward };
        var geometry = _hidden;
        var gram = Gram;
        return Ops.OperatorEquilibrium([w], weights => new Conv2dOperator<T>(geometry, weights[0]), c, spec, report: Report,
            metric: (root, batch) => GramMethods.Create(gram, (Conv2dOperator<T>)root, batch));
    }

    public IEnumerable<Parameter<T>> Parameters() => [V, U, B];

    public void Dispose()
    {
        V.Dispose(); U.Dispose(); B.Dispose();
        _power.Dispose();
    }
}
