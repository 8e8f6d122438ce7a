using OptEq.Kernels.Activations;
using OptEq.Solvers;

namespace OptEq.Autodiff.Layers;

/// <summary>Options of an OptEq layer, validated when built.</summary>
public sealed record OptEqLayerOptions
{
    private readonly double _gamma = 0.95;

    public required int Input { get; init; }
    public required int Hidden { get; init; }
    public Activation Activation { get; init; } = Activation.ReLU;
    /// <summary>The bound γ &lt; 1 on ||W||₂ (so ρ ≤ γ² and the equilibrium is unique).</summary>
    public double Gamma { get => _gamma; init => _gamma = CheckGamma(value); }
    public NormKind Norm { get; init; } = NormKind.Frobenius;

    /// <summary>γ itself when it lies in (0, 1), else an error.</summary>
    public static double CheckGamma(double gamma) => gamma > 0 && gamma < 1 ? gamma : throw new ArgumentOutOfRangeException(nameof(Gamma), gamma, "γ must lie in (0, 1)");
    public ObjectivePriors Priors { get; init; } = new();
    public SolverOptions Forward { get; init; } = new() { Solver = ForwardSolvers.Anderson, MaxIterations = 50, Tolerance = 1e-4 };
    public BackwardOptions Backward { get; init; } = new() { Adjoint = AdjointSolvers.ConjugateGradient };
}

/// <summary>
/// The OptEq layer (docs/math.md §1.2): z* = argmin G(z; x) = σ(M z* + U x + b) with M = WᵀW and W = γ·V/||V|| (a
/// differentiable reparameterisation keeping ||W||₂ ≤ γ &lt; 1). Priors change the objective and the map is derived
/// from them. Its forward solve records nothing; its backward is one adjoint solve (CG by default, exact).
/// </summary>
public sealed class OptEqLayer<T> : IEquilibriumLayer<T>, IDisposable where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly PowerIterationState<T>? _power;
    private readonly Tensor<T>? _quadraticMetric; // μPᵀP
    private readonly Tensor<T>? _quadraticShift;  // μ·qP
    private readonly double _quadraticNorm;

    public OptEqLayer(Device device, string name, OptEqLayerOptions options, Random rng)
    {
        Options = options;
        double bound = 1 / Math.Sqrt(options.Input);
        V = new Parameter<T>($"{name}.V", Init.Uniform<T>(device, rng, 1 / Math.Sqrt(options.Hidden), options.Hidden, options.Hidden));
        U = new Parameter<T>($"{name}.U", Init.Uniform<T>(device, rng, bound, options.Hidden, options.Input));
        B = new Parameter<T>($"{name}.b", Init.Uniform<T>(device, rng, bound, options.Hidden)) { NoWeightDecay = true };
        if (options.Norm == NormKind.Spectral) _power = new PowerIterationState<T>(device, options.Hidden, options.Hidden, rng.Next());
        if (options.Priors.Quadratic is var (mu, p, q, rows))
        {
            int d = options.Hidden;
            if (p.Length != rows * d || q.Length != rows) throw new ShapeException($"quadratic prior: P must be [{rows}, {d}] and q [{rows}]");
            var ptp = new double[d * d];
            var qp = new double[d];
            for (int r = 0; r < rows; r++)
                for (int i = 0; i < d; i++)
                {
                    qp[i] += mu * q[r] * p[r * d + i];
                    for (int j = 0; j < d; j++) ptp[i * d + j] += mu * p[r * d + i] * p[r * d + j];
                }
            _quadraticMetric = device.FromArray(ptp.Select(T.CreateChecked).ToArray(), d, d);
            _quadraticShift = device.FromArray(qp.Select(T.CreateChecked).ToArray(), d);
            _quadraticNorm = Solvers.Maps.OptEqMap<double>.SpectralNormSquaredOf(ptp, d) / mu;
        }
    }

    public OptEqLayerOptions Options { get; }
    /// <summary>The persistent power iteration of a spectral reparameterisation (null for Frobenius).</summary>
    public PowerIterationState<T>? PowerIteration => _power;
    public Parameter<T> V { get; }
    public Parameter<T> U { get; }
    public Parameter<T> B { get; }
    /// <summary>Solver statistics of the last forward and backward pass.</summary>
    public EquilibriumReport Report { get; } = new();

    public Variable<T> Forward(Variable<T> x)
    {
        var (m, c, spec) = Problem(x);
        return Ops.Equilibrium(m, c, spec, report: Report);
    }

    /// <summary>The equilibrium problem this layer solves for input x: K = M′, c′ and the spec (activation, ρ′, solvers).</summary>
    public (Variable<T> Metric, Variable<T> Injection, EquilibriumSpec Spec) Problem(Variable<T> x)
    {
        var tape = x.Tape;
        var c = Ops.Affine(x, tape.Param(U), tape.Param(B));
        var w = Ops.ScaleToNorm(tape.Param(V), Options.Gamma, Options.Norm, _power);
        var m = Ops.MatMul(w, w, transA: true);
        double rho = Options.Gamma * Options.Gamma;
        var (activation, scale, shift, effectiveRho) = Options.Priors.Derive(Options.Activation, rho, _quadraticNorm);
        if (_quadraticMetric is not null) m = Ops.Sub(m, tape.Constant(_quadraticMetric));
        if (_quadraticShift is not null) c = Ops.AddBias(c, tape.Constant(_quadraticShift));
        if (shift != 0) c = Ops.AddBias(c, tape.Constant(Constant(tape, shift, Options.Hidden)));
        if (scale != 1) { m = Ops.Scale(m, T.CreateChecked(scale)); c = Ops.Scale(c, T.CreateChecked(scale)); }
        var spec = new EquilibriumSpec { Activation = activation, SymmetricRho = effectiveRho, Forward = Options.Forward, Backward = Options.Backward };
        return (m, c, spec);
    }

    private static Tensor<T> Constant(Tape<T> tape, double value, int length)
    {
        var t = tape.Rent(length);
        tape.Device.Fill(t, T.CreateChecked(value));
        return t;
    }

    public IEnumerable<Parameter<T>> Parameters() => [V, U, B];

    public void Dispose()
    {
        V.Dispose(); U.Dispose(); B.Dispose();
        _power?.Dispose(); _quadraticMetric?.Dispose(); _quadraticShift?.Dispose();
    }
}
