using OptEq.Kernels.Activations;
using OptEq.Solvers;

namespace OptEq.Autodiff.Layers;

/// <summary>
/// Deep OptEq with L tiers (docs/math.md §1.3): z = (z₁ … z_L), W lower block-bidiagonal with diagonal blocks Aᵢ [dᵢ, dᵢ]
/// and sub-diagonal blocks Bᵢ [dᵢ₊₁, dᵢ], scaled as a whole to ||W||₂ ≤ γ, M = WᵀW couples each tier with its
/// neighbours and the objective stays convex. U·x enters tier 1, a bias enters every tier; the output is the last tier
/// (or all tiers).
/// </summary>
public sealed class DeepOptEqLayer<T> : IEquilibriumLayer<T>, IDisposable where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly int[] _offsets;
    private readonly PowerIterationState<T>? _power;

    public DeepOptEqLayer(Device device, string name, int input, int[] tiers, Random rng, Activation? activation = null, double gamma = 0.95,
        NormKind norm = NormKind.Frobenius, bool outputAllTiers = false, SolverOptions? forward = null, BackwardOptions? backward = null)
    {
        if (tiers.Length == 0 || tiers.Any(t => t < 1)) throw new ArgumentException("deep OptEq: tiers must be a non-empty list of sizes ≥ 1");
        if (!(gamma > 0 && gamma < 1)) throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "γ must lie in (0, 1)");
        Tiers = tiers;
        Activation = activation ?? Activation.ReLU;
        Gamma = gamma;
        Norm = norm;
        OutputAllTiers = outputAllTiers;
        ForwardOptions = forward ?? new SolverOptions { Solver = ForwardSolvers.Anderson, MaxIterations = 50, Tolerance = 1e-4 };
        BackwardOptions = backward ?? new BackwardOptions { Adjoint = AdjointSolvers.ConjugateGradient };
        _offsets = new int[tiers.Length + 1];
        for (int i = 0; i < tiers.Length; i++) _offsets[i + 1] = _offsets[i] + tiers[i];
        Diagonal = tiers.Select((d, i) => new Parameter<T>($"{name}.A{i}", Init.Uniform<T>(device, rng, 1 / Math.Sqrt(d), d, d))).ToArray();
        SubDiagonal = tiers.Skip(1).Select((d, i) => new Parameter<T>($"{name}.B{i}", Init.Uniform<T>(device, rng, 1 / Math.Sqrt(tiers[i]), d, tiers[i]))).ToArray();
        U = new Parameter<T>($"{name}.U", Init.Uniform<T>(device, rng, 1 / Math.Sqrt(input), tiers[0], input));
        Bias = new Parameter<T>($"{name}.b", Init.Uniform<T>(device, rng, 1 / Math.Sqrt(input), _offsets[^1])) { NoWeightDecay = true };
        if (norm == NormKind.Spectral) _power = new PowerIterationState<T>(device, _offsets[^1], _offsets[^1], rng.Next());
    }

    public int[] Tiers { get; }
    public Activation Activation { get; }
    public double Gamma { get; }
    public NormKind Norm { get; }
    public bool OutputAllTiers { get; }
    public SolverOptions ForwardOptions { get; }
    public BackwardOptions BackwardOptions { get; }
    public Parameter<T>[] Diagonal { get; }
    public Parameter<T>[] SubDiagonal { get; }
    public Parameter<T> U { get; }
    public Parameter<T> Bias { get; }
    public int Size => _offsets[^1];
    public int OutputSize => OutputAllTiers ? Size : Tiers[^1];
    public EquilibriumReport Report { get; } = new();

    public Variable<T> Forward(Variable<T> x)
    {
        var tape = x.Tape;
        int total = Size, batch = x.Shape[0];
        var blocks = new List<(Variable<T>, int, int)>();
        for (int i = 0; i < Tiers.Length; i++) blocks.Add((tape.Param(Diagonal[i]), _offsets[i], _offsets[i]));
        for (int i = 0; i < SubDiagonal.Length; i++) blocks.Add((tape.Param(SubDiagonal[i]), _offsets[i + 1], _offsets[i]));
        var v = Ops.AssembleBlocks(total, total, blocks.ToArray());
        var w = Ops.ScaleToNorm(v, Gamma, Norm, _power);
        var m = Ops.MatMul(w, w, transA: true);
        var injected = Ops.MatMul(x, tape.Param(U), transB: true);
        var c = Tiers.Length == 1 ? injected : Ops.ConcatColumns(injected, tape.Constant(tape.Zeros(batch, total - Tiers[0])));
        c = Ops.AddBias(c, tape.Param(Bias));
        var spec = new EquilibriumSpec { Activation = Activation, SymmetricRho = Gamma * Gamma, Forward = ForwardOptions, Backward = BackwardOptions };
        var z = Ops.Equilibrium(m, c, spec, report: Report);
        return OutputAllTiers ? z : Ops.SliceColumns(z, _offsets[^2], Tiers[^1]);
    }

    public IEnumerable<Parameter<T>> Parameters() => Diagonal.Concat(SubDiagonal).Append(U).Append(Bias);

    public void Dispose()
    {
        foreach (var p in Parameters()) p.Dispose();
        _power?.Dispose();
    }
}
