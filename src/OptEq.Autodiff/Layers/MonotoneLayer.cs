using OptEq.Kernels.Activations;
using OptEq.Solvers;

namespace OptEq.Autodiff.Layers;

/// <summary>
/// Monotone operator equilibrium layer (Winston &amp; Kolter, docs/math.md §3): z = σ(W z + U x + b) with
/// W = (1 − m)I − AᵀA + B − Bᵀ, which guarantees a unique equilibrium. Solved by Peaceman–Rachford by default
/// ((I + α(I − W))⁻¹ is computed once per forward pass, i.e. once per weight update).
/// </summary>
public sealed class MonotoneLayer<T> : IEquilibriumLayer<T>, IDisposable where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Tensor<T> _identity;

    public MonotoneLayer(Device device, string name, int input, int hidden, Random rng, Activation? activation = null, double margin = 1.0,
        SolverOptions? forward = null, BackwardOptions? backward = null)
    {
        if (!(margin > 0)) throw new ArgumentOutOfRangeException(nameof(margin), margin, "the monotonicity margin m must be > 0");
        Margin = margin;
        Activation = activation ?? Activation.ReLU;
        ForwardOptions = forward ?? new SolverOptions { Solver = ForwardSolvers.PeacemanRachford, SplittingStep = 1.0, MaxIterations = 100, Tolerance = 1e-4 };
        BackwardOptions = backward ?? new BackwardOptions { Adjoint = AdjointSolvers.Anderson };
        A = new Parameter<T>($"{name}.A", Init.Uniform<T>(device, rng, 1 / Math.Sqrt(hidden), hidden, hidden));
        B = new Parameter<T>($"{name}.B", Init.Uniform<T>(device, rng, 1 / Math.Sqrt(hidden), hidden, hidden));
        U = new Parameter<T>($"{name}.U", Init.Uniform<T>(device, rng, 1 / Math.Sqrt(input), hidden, input));
        Bias = new Parameter<T>($"{name}.b", Init.Uniform<T>(device, rng, 1 / Math.Sqrt(input), hidden)) { NoWeightDecay = true };
        var eye = new T[hidden * hidden];
        for (int i = 0; i < hidden; i++) eye[i * hidden + i] = T.One;
        _identity = device.FromArray<T>(eye, hidden, hidden);
    }

    public double Margin { get; }
    public Activation Activation { get; }
    public SolverOptions ForwardOptions { get; }
    public BackwardOptions BackwardOptions { get; }
    public Parameter<T> A { get; }
    public Parameter<T> B { get; }
    public Parameter<T> U { get; }
    public Parameter<T> Bias { get; }
    public EquilibriumReport Report { get; } = new();

    /// <summary>W = (1 − m)I − AᵀA + B − Bᵀ on the tape.</summary>
    public Variable<T> Weight(Tape<T> tape)
    {
        var a = tape.Param(A);
        var b = tape.Param(B);
        var w = Ops.Combine(tape.Constant(_identity), T.CreateChecked(1 - Margin), Ops.MatMul(a, a, transA: true), -T.One);
        return Ops.Add(w, Ops.Sub(b, Ops.Transpose(b)));
    }

    public Variable<T> Forward(Variable<T> x)
    {
        var tape = x.Tape;
        var c = Ops.Affine(x, tape.Param(U), tape.Param(Bias));
        var spec = new EquilibriumSpec { Activation = Activation, Forward = ForwardOptions, Backward = BackwardOptions };
        return Ops.Equilibrium(Weight(tape), c, spec, report: Report);
    }

    public IEnumerable<Parameter<T>> Parameters() => [A, B, U, Bias];

    public void Dispose()
    {
        foreach (var p in Parameters()) p.Dispose();
        _identity.Dispose();
    }
}
