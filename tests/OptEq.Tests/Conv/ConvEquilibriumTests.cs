using NUnit.Framework;
using OptEq.Autodiff;
using OptEq.Kernels;
using OptEq.Kernels.Activations;
using OptEq.Kernels.Native;
using OptEq.Solvers;
using OptEq.Solvers.Maps;
using OptEq.Solvers.Operators;

namespace OptEq.Tests.Conv;

/// <summary>
/// The OptEq map with a convolution operator (docs/math.md §1.7): its equilibrium is a fixed point and the minimiser of G,
/// FISTA / forward–backward / CG serve it, and the operator-norm reparameterisation keeps ||W||₂ ≤ γ on the operator
/// itself (checked against the exact norm of the unrolled operator).
/// </summary>
public class ConvEquilibriumTests
{
    private NativeCpuDevice _device = null!;

    [OneTimeSetUp] public void Open() => _device = new NativeCpuDevice();
    [OneTimeTearDown] public void Close() => _device.Dispose();

    private Tensor<double> Random(int seed, double scale, params int[] shape)
    {
        var rng = new Random(seed);
        long n = 1;
        foreach (var s in shape) n *= s;
        return _device.FromArray(Enumerable.Range(0, (int)n).Select(_ => scale * (rng.NextDouble() - 0.5)).ToArray(), shape);
    }

    /// <summary>The operator as a dense float64 matrix [OutputSize, InputSize], column j = A·e_j.</summary>
    internal static double[,] Unroll(ILinearOperator<double> a, Device device)
    {
        int n = a.InputSize, m = a.OutputSize;
        using var unit = device.Allocate<double>(n, n);
        var eye = new double[n * n];
        for (int i = 0; i < n; i++) eye[i * n + i] = 1;
        unit.CopyFrom(eye);
        using var columns = device.Allocate<double>(n, m);
        a.Apply(unit, columns, 0);
        var c = columns.ToArray();
        var dense = new double[m, n];
        for (int j = 0; j < n; j++) for (int i = 0; i < m; i++) dense[i, j] = c[j * m + i];
        return dense;
    }

    /// <summary>||A||₂ exactly: the square root of the largest eigenvalue of AᵀA (Jacobi eigenvalues, float64).</summary>
    internal static double ExactNorm(double[,] a)
    {
        int m = a.GetLength(0), n = a.GetLength(1);
        var ata = new double[n, n];
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) { double s = 0; for (int k = 0; k < m; k++) s += a[k, i] * a[k, j]; ata[i, j] = s; }
        return Math.Sqrt(JacobiEigenvalues(ata).Max());
    }

    private static double[] JacobiEigenvalues(double[,] a)
    {
        int n = a.GetLength(0);
        var m = (double[,])a.Clone();
        for (int sweep = 0; sweep < 100; sweep++)
        {
            double off = 0;
            for (int p = 0; p < n; p++) for (int q = p + 1; q < n; q++) off += m[p, q] * m[p, q];
            if (off < 1e-24) break;
            for (int p = 0; p < n; p++)
                for (int q = p + 1; q < n; q++)
                {
                    if (Math.Abs(m[p, q]) < 1e-300) continue;
                    double theta = (m[q, q] - m[p, p]) / (2 * m[p, q]);
                    double t = Math.Sign(theta) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                    if (theta == 0) t = 1;
                    double c = 1 / Math.Sqrt(t * t + 1), s = t * c;
                    for (int k = 0; k < n; k++)
                    {
                        double mkp = m[k, p], mkq = m[k, q];
                        m[k, p] = c * mkp - s * mkq; m[k, q] = s * mkp + c * mkq;
                    }
                    for (int k = 0; k < n; k++)
                    {
                        double mpk = m[p, k], mqk = m[q, k];
                        m[p, k] = c * mpk - s * mqk; m[q, k] = s * mpk + c * mqk;
                    }
                }
        }
        return Enumerable.Range(0, n).Select(i => m[i, i]).ToArray();
    }

    [TestCase(ConvPadding.Zero)]
    [TestCase(ConvPadding.Circular)]
    public void TheOperatorNormReparameterisationBoundsTheConvolutionOperator(ConvPadding padding)
    {
        var g = new Conv2dGeometry(3, 5, 5, 3, 3, 3, 1, 1, padding);
        using var v = Random(11, 1, 3, g.WeightColumns);
        using var power = new OperatorPowerIterationState<double>(_device, g.InputSize, g.OutputSize, 5) { StepsPerForward = 5000 };
        using var tape = Tape<double>.NoGrad(_device);
        var w = Ops.ScaleToOperatorNorm([tape.Constant(v)], new Conv2dOperator<double>(g, v), 0.9, power)[0];
        double exactV = ExactNorm(Unroll(new Conv2dOperator<double>(g, v), _device));
        double exactW = ExactNorm(Unroll(new Conv2dOperator<double>(g, w.Value), _device));
        // Power iteration approaches σ from below (a Rayleigh quotient), so ||W||₂ = γ·σ/σ̃ ≥ γ by the iteration's remaining
        // error: slow here, as the top singular values of a small convolution lie close together (docs/math.md §1.7).
        Assert.That(power.Sigma, Is.LessThanOrEqualTo(exactV * (1 + 1e-12)), "the power estimate never exceeds ||V||₂");
        Assert.That(power.Sigma, Is.EqualTo(exactV).Within(1e-5 * exactV), "σ from the power iteration on VᵀV is ||V||₂");
        Assert.That(exactW, Is.LessThanOrEqualTo(0.9 * (1 + 1e-5)), "||W||₂ ≤ γ on the operator, up to the iteration's error");
        Assert.That(exactW, Is.GreaterThanOrEqualTo(0.9 * (1 - 1e-12)), "and equal to γ: the bound is tight");
    }

    [Test]
    public void AFewPersistentPowerStepsPerForwardConvergeToTheOperatorNorm()
    {
        var g = new Conv2dGeometry(2, 6, 6, 2, 3, 3, 1, 1, ConvPadding.Zero);
        using var v = Random(12, 1, 2, g.WeightColumns);
        using var power = new OperatorPowerIterationState<double>(_device, g.InputSize, g.OutputSize, 6) { StepsPerForward = 2 };
        for (int step = 0; step < 2500; step++)
        {
            using var tape = Tape<double>.NoGrad(_device);
            Ops.ScaleToOperatorNorm([tape.Constant(v)], new Conv2dOperator<double>(g, v), 0.9, power);
        }
        double exact = ExactNorm(Unroll(new Conv2dOperator<double>(g, v), _device));
        Assert.That(power.Sigma, Is.EqualTo(exact).Within(1e-6 * exact));
    }

    /// <summary>A conv W with ||W||₂ = γ exactly (scaled by the unrolled norm), a random injection, and the OptEq map.</summary>
    private (Tensor<double> W, Tensor<double> C, OperatorOptEqMap<double> Map) Problem(Activation activation, double gamma, ConvPadding padding)
    {
        var g = new Conv2dGeometry(2, 5, 5, 3, 3, 3, 1, 1, padding);
        var w = Random(21, 1, 3, g.WeightColumns);
        double norm = ExactNorm(Unroll(new Conv2dOperator<double>(g, w), _device));
        _device.Axpby(gamma / norm, w, 0, w, w);
        var c = Random(22, 2, 4, g.InputSize);
        return (w, c, new OperatorOptEqMap<double>(activation, new Conv2dOperator<double>(g, w), c, gamma * gamma));
    }

    [TestCase("anderson", ConvPadding.Zero)]
    [TestCase("picard", ConvPadding.Zero)]
    [TestCase("fista", ConvPadding.Circular)]
    [TestCase("forward-backward", ConvPadding.Circular)]
    public void TheEquilibriumIsAFixedPointAndTheMinimiserOfG(string solver, ConvPadding padding)
    {
        var (w, c, map) = Problem(Activation.ReLU, 0.9, padding);
        using var _w = w; using var _c = c; using var _map = map;
        using var z0 = _device.Allocate<double>(4, map.Dimension);
        _device.Fill(z0, 0);
        using var result = SolverRegistry.Solve(map, z0, new SolverOptions { Solver = SolverRegistry.Forward[solver], MaxIterations = 2000, Tolerance = 1e-12, SplittingStep = 1.0 });
        Assert.That(result.ConvergedFraction, Is.EqualTo(1.0), $"{solver} converged");
        // Fixed point: T(z*) = z*.
        using var tz = _device.Allocate<double>(4, map.Dimension);
        map.Apply(result.Solution, tz);
        var z = result.Solution.ToArray();
        var t = tz.ToArray();
        Assert.That(z.Zip(t, (a, b) => Math.Abs(a - b)).Max(), Is.LessThan(1e-9), "||T(z*) − z*||∞");
        Assert.That(result.DistanceBound, Is.Not.Null, "the certificate is reported");
        Assert.That(result.Objective, Is.Not.Null, "G per sample is reported");
        // Optimality: G(z*) ≤ G(z* + δ) for random feasible (z ≥ 0 for ReLU) perturbations.
        using var gStar = _device.Allocate<double>(4);
        map.Objective(result.Solution, gStar);
        var best = gStar.ToArray();
        var rng = new Random(3);
        using var perturbed = _device.Allocate<double>(4, map.Dimension);
        using var gPerturbed = _device.Allocate<double>(4);
        for (int trial = 0; trial < 20; trial++)
        {
            double scale = trial < 10 ? 1e-3 : 0.3;
            perturbed.CopyFrom(z.Select(v => Math.Max(0, v + scale * (rng.NextDouble() - 0.5))).ToArray());
            map.Objective(perturbed, gPerturbed);
            var values = gPerturbed.ToArray();
            for (int s = 0; s < 4; s++) Assert.That(values[s], Is.GreaterThanOrEqualTo(best[s] - 1e-12), $"sample {s}, trial {trial}");
        }
    }

    [Test]
    public void TheConjugateGradientAdjointSolvesTheOperatorAdjoint()
    {
        var (w, c, map) = Problem(Activation.Softplus, 0.9, ConvPadding.Zero);
        using var _w = w; using var _c = c; using var _map = map;
        using var z0 = _device.Allocate<double>(4, map.Dimension);
        _device.Fill(z0, 0);
        using var forward = SolverRegistry.Solve(map, z0, new SolverOptions { Solver = ForwardSolvers.Anderson, MaxIterations = 500, Tolerance = 1e-13 });
        map.PrepareAdjoint(forward.Solution);
        using var g = Random(23, 1, 4, map.Dimension);
        using var cg = AdjointSolvers.ConjugateGradient.Solve(map, g, new SolverOptions { MaxIterations = 500, Tolerance = 1e-13 });
        using var fixedPoint = AdjointSolvers.FixedPoint.Solve(map, g, new SolverOptions { MaxIterations = 2000, Tolerance = 1e-13 });
        // Both solve w = (∂T/∂z)ᵀw + g; check the residual of CG's w and agreement with the fixed-point solve.
        using var check = _device.Allocate<double>(4, map.Dimension);
        map.VectorJacobianProductPlus(cg.Solution, g, check);
        var a = cg.Solution.ToArray();
        Assert.That(a.Zip(check.ToArray(), (x, y) => Math.Abs(x - y)).Max(), Is.LessThan(1e-9), "CG's w satisfies the adjoint equation");
        Assert.That(a.Zip(fixedPoint.Solution.ToArray(), (x, y) => Math.Abs(x - y)).Max(), Is.LessThan(1e-8), "CG and fixed-point adjoints agree");
    }
}
