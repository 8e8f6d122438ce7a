using OptEq.Kernels.Activations;
using OptEq.Solvers;

namespace OptEq.Autodiff.Layers;

/// <summary>
/// Implicit deep learning (El Ghaoui et al., docs/math.md §2): x = φ(A x + B u + b), ŷ = C x + D u + e. Well-posed when
/// λ_pf(|A|) &lt; 1; training keeps the convex surrogate ||A||∞ ≤ κ by projecting every row of A onto the ℓ1 ball of
/// radius κ after each optimizer step (exact sort-based projection). A feedforward net is the special case of a
/// strictly upper block-triangular A.
/// </summary>
public sealed class ImplicitLayer<T> : IEquilibriumLayer<T>, IDisposable where T : unmanaged, IFloatingPointIeee754<T>
{
    public ImplicitLayer(Device device, string name, int input, int hidden, int output, Random rng, Activation? activation = null, double kappa = 0.95,
        SolverOptions? forward = null, BackwardOptions? backward = null)
    {
        if (!(kappa > 0 && kappa < 1)) throw new ArgumentOutOfRangeException(nameof(kappa), kappa, "κ must lie in (0, 1)");
        Kappa = kappa;
        Activation = activation ?? Activation.ReLU;
        ForwardOptions = forward ?? new SolverOptions { Solver = ForwardSolvers.Anderson, MaxIterations = 50, Tolerance = 1e-4 };
        BackwardOptions = backward ?? new BackwardOptions { Adjoint = AdjointSolvers.Anderson };
        A = new Parameter<T>($"{name}.A", Init.Uniform<T>(device, rng, 1 / Math.Sqrt(hidden), hidden, hidden)) { AfterStep = p => ProjectRows(p, Kappa) };
        B = new Parameter<T>($"{name}.B", Init.Uniform<T>(device, rng, 1 / Math.Sqrt(input), hidden, input));
        Bias = new Parameter<T>($"{name}.b", Init.Uniform<T>(device, rng, 1 / Math.Sqrt(input), hidden)) { NoWeightDecay = true };
        C = new Parameter<T>($"{name}.C", Init.Uniform<T>(device, rng, 1 / Math.Sqrt(hidden), output, hidden));
        D = new Parameter<T>($"{name}.D", Init.Uniform<T>(device, rng, 1 / Math.Sqrt(input), output, input));
        E = new Parameter<T>($"{name}.e", device.Allocate<T>(output)) { NoWeightDecay = true };
        ProjectRows(A, Kappa);
    }

    public double Kappa { get; }
    public Activation Activation { get; }
    public SolverOptions ForwardOptions { get; }
    public BackwardOptions BackwardOptions { get; }
    public Parameter<T> A { get; }
    public Parameter<T> B { get; }
    public Parameter<T> Bias { get; }
    public Parameter<T> C { get; }
    public Parameter<T> D { get; }
    public Parameter<T> E { get; }
    public EquilibriumReport Report { get; } = new();

    public Variable<T> Forward(Variable<T> u)
    {
        var tape = u.Tape;
        var c = Ops.Affine(u, tape.Param(B), tape.Param(Bias));
        var spec = new EquilibriumSpec { Activation = Activation, Forward = ForwardOptions, Backward = BackwardOptions };
        var x = Ops.Equilibrium(tape.Param(A), c, spec, report: Report);
        return Ops.Add(Ops.Affine(x, tape.Param(C), tape.Param(E)), Ops.MatMul(u, tape.Param(D), transB: true));
    }

    /// <summary>Projects every row of A with ||aᵢ||₁ &gt; κ onto the ℓ1 ball of radius κ (Duchi et al.'s sort-based projection).</summary>
    public static void ProjectRows(Parameter<T> a, double kappa)
    {
        int n = a.Shape[0], m = a.Shape[1];
        var values = a.Value.ToArray();
        var row = new double[m];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < m; j++) row[j] = double.CreateChecked(values[i * m + j]);
            L1Ball.Project(row, kappa);
            for (int j = 0; j < m; j++) values[i * m + j] = T.CreateChecked(row[j]);
        }
        a.Value.CopyFrom(values);
    }

    /// <summary>max row ℓ1 norm ||A||∞.</summary>
    public double InfinityNorm()
    {
        int n = A.Shape[0], m = A.Shape[1];
        var v = A.Value.ToArray();
        double max = 0;
        for (int i = 0; i < n; i++)
        {
            double s = 0;
            for (int j = 0; j < m; j++) s += Math.Abs(double.CreateChecked(v[i * m + j]));
            max = Math.Max(max, s);
        }
        return max;
    }

    /// <summary>λ_pf(|A|), the Perron–Frobenius eigenvalue of the entrywise |A|, by power iteration: &lt; 1 means well-posed.</summary>
    public double PerronFrobenius(int iterations = 500)
    {
        int n = A.Shape[0];
        var abs = A.Value.ToArray().Select(x => Math.Abs(double.CreateChecked(x))).ToArray();
        var v = Enumerable.Repeat(1.0 / n, n).ToArray();
        double lambda = 0;
        for (int it = 0; it < iterations; it++)
        {
            var next = new double[n];
            for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) next[i] += abs[i * n + j] * v[j];
            double sum = next.Sum();
            if (sum == 0) return 0;
            lambda = sum / v.Sum();
            for (int i = 0; i < n; i++) v[i] = next[i] / sum;
        }
        return lambda;
    }

    /// <summary>
    /// The componentwise sensitivity bound |Δŷ| ≤ S·|δu| with S = |C|(I − |A|)⁻¹|B| + |D| ([output, input]), valid when
    /// λ_pf(|A|) &lt; 1 (docs/math.md §2).
    /// </summary>
    public double[,] RobustnessBound()
    {
        int n = A.Shape[0], inp = B.Shape[1], outp = C.Shape[0];
        var a = A.Value.ToArray(); var b = B.Value.ToArray(); var c = C.Value.ToArray(); var d = D.Value.ToArray();
        var iMinusAbs = new double[n * n];
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) iMinusAbs[i * n + j] = (i == j ? 1 : 0) - Math.Abs(double.CreateChecked(a[i * n + j]));
        var inverse = Solvers.Maps.DenseInverseAccess.Invert(iMinusAbs, n) ?? throw new InvalidOperationException("I − |A| is singular: the layer is not well-posed");
        var s = new double[outp, inp];
        for (int o = 0; o < outp; o++)
            for (int k = 0; k < inp; k++)
            {
                double sum = Math.Abs(double.CreateChecked(d[o * inp + k]));
                for (int i = 0; i < n; i++)
                {
                    double ci = Math.Abs(double.CreateChecked(c[o * n + i]));
                    if (ci == 0) continue;
                    double inner = 0;
                    for (int j = 0; j < n; j++) inner += inverse[i * n + j] * Math.Abs(double.CreateChecked(b[j * inp + k]));
                    sum += ci * inner;
                }
                s[o, k] = sum;
            }
        return s;
    }

    public IEnumerable<Parameter<T>> Parameters() => [A, B, Bias, C, D, E];

    public void Dispose() { foreach (var p in Parameters()) p.Dispose(); }
}

/// <summary>Euclidean projection onto the ℓ1 ball {x : ||x||₁ ≤ radius}, by sorting (Duchi, Shalev-Shwartz, Singer, Chandra 2008).</summary>
public static class L1Ball
{
    public static void Project(double[] x, double radius)
    {
        double l1 = x.Sum(Math.Abs);
        if (l1 <= radius) return;
        var sorted = x.Select(Math.Abs).OrderByDescending(v => v).ToArray();
        double cumulative = 0, theta = 0;
        for (int k = 0; k < sorted.Length; k++)
        {
            cumulative += sorted[k];
            double t = (cumulative - radius) / (k + 1);
            if (sorted[k] > t) theta = t;
        }
        for (int i = 0; i < x.Length; i++) x[i] = Math.Sign(x[i]) * Math.Max(Math.Abs(x[i]) - theta, 0);
    }
}
