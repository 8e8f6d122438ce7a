using OptEq.Kernels.Activations;
using OptEq.Solvers;

namespace OptEq.Autodiff.Layers;

/// <summary>The shape of a monotone conv layer: the image, the channels, the kernel, the padding and the pooling.</summary>
public sealed record MonotoneConvLayerOptions
{
    public required int InputChannels { get; init; }
    public required int Height { get; init; }
    public required int Width { get; init; }
    public required int Channels { get; init; }
    public int KernelSize { get; init; } = 3;
    public ConvPadding Padding { get; init; } = ConvPadding.Circular;
    /// <summary>Stride of the input convolution: the state is the image's size (1, as the paper) or smaller.</summary>
    public int InjectionStride { get; init; } = 1;
    /// <summary>Average pooling window and stride after the equilibrium (1: none).</summary>
    public int Pool { get; init; } = 4;
    public double Margin { get; init; } = 1.0;
    public Activation Activation { get; init; } = Activation.ReLU;
    public SolverOptions? Forward { get; init; }
    public BackwardOptions? Backward { get; init; }

    /// <summary>The input convolution: image → state, k×k, stride <see cref="InjectionStride"/>, padding (k − 1)/2.</summary>
    public Conv2dGeometry Injection => new(InputChannels, Height, Width, Channels, KernelSize, KernelSize, InjectionStride, (KernelSize - 1) / 2, Padding);
    /// <summary>The geometry of A and B on the state: C → C, k×k, stride 1, "same" padding.</summary>
    public Conv2dGeometry Recurrent => new(Channels, Injection.OutHeight, Injection.OutWidth, Channels, KernelSize, KernelSize, 1, (KernelSize - 1) / 2, Padding);
    public Pool2dGeometry Pooling => new(Channels, Injection.OutHeight, Injection.OutWidth, Pool, Pool);

    /// <summary>Checks the options; throws <see cref="ArgumentException"/> naming the problem.</summary>
    public void Validate()
    {
        if (InputChannels < 1 || Height < 1 || Width < 1) throw new ArgumentException($"conv-mon: the image must be ≥ 1 channel and 1×1, got {InputChannels}×{Height}×{Width}");
        if (Channels < 1) throw new ArgumentOutOfRangeException(nameof(Channels), Channels, "conv-mon: channels must be ≥ 1");
        if (KernelSize < 1 || KernelSize % 2 == 0) throw new ArgumentOutOfRangeException(nameof(KernelSize), KernelSize, "conv-mon: the kernel size must be odd (W keeps the image size)");
        if (InjectionStride < 1) throw new ArgumentOutOfRangeException(nameof(InjectionStride), InjectionStride, "conv-mon: the injection stride must be ≥ 1");
        Conv2dGeometry injection;
        try { injection = Injection; }
        catch (ShapeException e) { throw new ArgumentException($"conv-mon: {e.Message}", e); }
        int side = Math.Min(injection.OutHeight, injection.OutWidth);
        if (Pool < 1 || Pool > side) throw new ArgumentOutOfRangeException(nameof(Pool), Pool, $"conv-mon: the pooling window must lie in [1, {side}] (the state is {Injection.OutHeight}×{Injection.OutWidth})");
        if (!(Margin > 0)) throw new ArgumentOutOfRangeException(nameof(Margin), Margin, "conv-mon: the monotonicity margin m must be > 0");
        if (Forward?.Solver is { } solver && (solver == ForwardSolvers.PeacemanRachford || solver == ForwardSolvers.Fista || solver == ForwardSolvers.HybridSteepestDescent))
            throw new ArgumentException($"conv-mon: solver '{solver.Name}' is not available (use forward-backward, anderson, picard, broyden or halpern; Peaceman–Rachford needs the Fourier-domain resolvent, not implemented)");
        if (Backward?.Mode == BackwardMode.Unrolled) throw new ArgumentException("conv-mon: the unrolled backward is not available; use implicit, jacobian-free or phantom");
        try { _ = Recurrent; _ = Pooling; } // the geometries validate themselves (e.g. circular padding wider than the state)
        catch (ShapeException e) { throw new ArgumentException($"conv-mon: {e.Message}", e); }
    }
}

/// <summary>
/// The monotone operator network's single-convolution layer (Winston &amp; Kolter; docs/math.md §3.1):
/// z = σ(W z + U∗x + b) with W z = (1 − m)z − Aᵀ(A z) + B z − Bᵀ z, A and B k×k convolutions C → C (circular padding
/// by default, as the paper), U∗x + b the input convolution; the output is z* average-pooled. The symmetric part of
/// I − W is mI + AᵀA ⪰ mI: the equilibrium exists and is unique for every A, B, so no projection is needed. Solved by
/// forward–backward splitting with the step α·m/L̂² (L̂ ≈ ||I − W||₂ by power iteration; α the solver's splitting step,
/// convergent for α &lt; 2); implicit backward by the adjoint solver.
/// </summary>
public sealed class MonotoneConvLayer<T> : IEquilibriumLayer<T>, IDisposable where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly MonotoneStepState<T> _step;

    public MonotoneConvLayer(Device device, string name, MonotoneConvLayerOptions options, Random rng)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        ForwardOptions = options.Forward ?? new SolverOptions { Solver = ForwardSolvers.ForwardBackward, MaxIterations = 30, Tolerance = 1e-3 };
        BackwardOptions = options.Backward ?? new BackwardOptions { Adjoint = AdjointSolvers.Anderson };
        int c = options.Channels, k2 = options.KernelSize * options.KernelSize;
        // PyTorch's Conv2d default bound 1/√fan-in, drawn in the order U, b, A, B (the order keys seeds).
        double inBound = 1 / Math.Sqrt(options.InputChannels * k2), bound = 1 / Math.Sqrt(c * k2);
        U = new Parameter<T>($"{name}.U", Init.Uniform<T>(device, rng, inBound, c, options.InputChannels * k2));
        Bias = new Parameter<T>($"{name}.b", Init.Uniform<T>(device, rng, inBound, c)) { NoWeightDecay = true };
        A = new Parameter<T>($"{name}.A", Init.Uniform<T>(device, rng, bound, c, c * k2));
        B = new Parameter<T>($"{name}.B", Init.Uniform<T>(device, rng, bound, c, c * k2));
        _step = new MonotoneStepState<T>(device, options.Recurrent.InputSize);
    }

    public MonotoneConvLayerOptions Options { get; }
    public SolverOptions ForwardOptions { get; }
    public BackwardOptions BackwardOptions { get; }
    public Parameter<T> U { get; }
    public Parameter<T> Bias { get; }
    public Parameter<T> A { get; }
    public Parameter<T> B { get; }
    public EquilibriumReport Report { get; } = new();
    /// <summary>The step rule's state: the latest L̂ ≈ ||I − W||₂ and step scale m/L̂², and the power steps per forward pass.</summary>
    public MonotoneStepState<T> StepRule => _step;

    /// <summary>Features per sample of the output: C·(H/p)·(W/p).</summary>
    public int OutputSize => Options.Pooling.OutputSize;

    /// <summary>The equilibrium z* [batch, C·H·W] before pooling.</summary>
    public Variable<T> Equilibrium(Variable<T> x)
    {
        var tape = x.Tape;
        var c = Ops.Conv2d(x, tape.Param(U), tape.Param(Bias), Options.Injection);
        var spec = new EquilibriumSpec { Activation = Options.Activation, Forward = ForwardOptions, Backward = BackwardOptions };
        return Ops.MonotoneConvEquilibrium(tape.Param(A), tape.Param(B), c, Options.Recurrent, Options.Margin, spec, _step, Report);
    }

    public Variable<T> Forward(Variable<T> x)
    {
        var z = Equilibrium(x);
        return Options.Pool == 1 ? z : Ops.AvgPool2d(z, Options.Pooling);
    }

    public IEnumerable<Parameter<T>> Parameters() => [U, Bias, A, B];

    public void Dispose()
    {
        foreach (var p in Parameters()) p.Dispose();
        _step.Dispose();
    }
}
