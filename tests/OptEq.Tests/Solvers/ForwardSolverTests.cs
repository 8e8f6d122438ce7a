using NUnit.Framework;
using OptEq.Kernels;
using OptEq.Kernels.Activations;
using OptEq.Kernels.Native;
using OptEq.Kernels.Reference;
using OptEq.Solvers;
using OptEq.Solvers.Maps;

namespace OptEq.Tests.Solvers;

public class ForwardSolverTests
{
    private NativeCpuDevice _device = null!;

    [OneTimeSetUp] public void Open() => _device = new NativeCpuDevice();
    [OneTimeTearDown] public void Close() => _device.Dispose();

    private static readonly IForwardSolver[] AllSolvers = [.. ForwardSolvers.All];

    /// <summary>T(z) = z·Aᵀ + c with ||A||₂ = 0.8 (identity activation): z* = (I − A)⁻¹c per sample, solved directly.</summary>
    [TestCaseSource(nameof(AllSolvers))]
    public void ContractiveLinearMapMatchesDirectSolve(IForwardSolver kind)
    {
        const int batch = 5, d = 12;
        var rng = new Random(11);
        // Symmetric A (= WᵀW, PSD) so that FISTA's objective exists and the splitting maps are monotone.
        var w = Problems.WithSpectralNorm(rng, d, d, Math.Sqrt(0.8));
        var a = new double[d * d];
        ReferenceKernels.Gemm(true, false, d, d, d, 1, w, w, 0, a);
        var c = Problems.Gaussian(rng, batch * d);
        using var weight = _device.FromArray(a, d, d);
        using var injection = _device.FromArray(c, batch, d);
        using var map = new OptEqMap<double>(Activation.Identity, weight, injection, 0.8);
        using var z0 = _device.Allocate<double>(batch, d);
        var options = new SolverOptions
        {
            Solver = kind, MaxIterations = kind == ForwardSolvers.Halpern || kind == ForwardSolvers.HybridSteepestDescent ? 4000 : 400,
            Tolerance = 1e-10, Stop = StopCriterion.Absolute, CheckEvery = 10,
        };
        using var result = SolverRegistry.Solve(map, z0, options);
        bool anchored = kind == ForwardSolvers.Halpern || kind == ForwardSolvers.HybridSteepestDescent;
        if (!anchored)
            Assert.That(result.AllConverged, Is.True, $"{kind}: {string.Join(", ", result.Status)}; abs {string.Join(", ", result.AbsResidual)}");

        var iMinusA = new double[d * d];
        for (int i = 0; i < d; i++) for (int j = 0; j < d; j++) iMinusA[i * d + j] = (i == j ? 1 : 0) - a[i * d + j];
        var z = result.Solution.ToArray();
        // Halpern's and HSD's anchoring makes them O(1/k): a looser but still meaningful bound.
        double tolerance = kind == ForwardSolvers.Halpern || kind == ForwardSolvers.HybridSteepestDescent ? 5e-3 : 1e-8;
        for (int s = 0; s < batch; s++)
        {
            var expected = ReferenceKernels.Solve(d, iMinusA, c.AsSpan(s * d, d).ToArray())!;
            for (int j = 0; j < d; j++)
                Assert.That(z[s * d + j], Is.EqualTo(expected[j]).Within(tolerance), $"{kind} sample {s} component {j}");
        }
    }

    [TestCase(ActivationKind.ReLU)]
    [TestCase(ActivationKind.Tanh)]
    [TestCase(ActivationKind.Softplus)]
    public void OptEqSolutionSatisfiesOptimalityAndMinimisesTheObjective(ActivationKind kind)
    {
        var activation = kind switch { ActivationKind.ReLU => Activation.ReLU, ActivationKind.Tanh => Activation.Tanh, _ => Activation.Softplus };
        const int batch = 6, d = 20;
        using var p = new Problems.OptEqProblem<double>(_device, activation, batch, d, rho: 0.9, seed: 3);
        using var anderson = SolverRegistry.Solve(p.Map, p.Z0, new SolverOptions { Solver = ForwardSolvers.Anderson, MaxIterations = 300, Tolerance = 1e-11, Stop = StopCriterion.Absolute });
        using var picard = SolverRegistry.Solve(p.Map, p.Z0, new SolverOptions { Solver = ForwardSolvers.Picard, MaxIterations = 3000, Tolerance = 0, RecordTrace = false, CheckEvery = 100 });
        Assert.That(anderson.AllConverged, Is.True);

        // Optimality: the fixed-point equation z = σ(Mz + c) (equivalent to 0 ∈ ∂G(z)) holds to the tolerance.
        using var fz = _device.Allocate<double>(batch, d);
        p.Map.Apply(anderson.Solution, fz);
        var z = anderson.Solution.ToArray();
        var tz = fz.ToArray();
        for (int i = 0; i < z.Length; i++) Assert.That(tz[i], Is.EqualTo(z[i]).Within(1e-10));

        // G: not above a long Picard run, and below random perturbations of the solution (within f's domain).
        Assert.That(anderson.Objective, Is.Not.Null);
        for (int s = 0; s < batch; s++) Assert.That(anderson.Objective![s], Is.LessThanOrEqualTo(picard.Objective![s] + 1e-10));
        var rng = new Random(5);
        using var perturbed = _device.Allocate<double>(batch, d);
        using var g = _device.Allocate<double>(batch);
        for (int trial = 0; trial < 20; trial++)
        {
            var zp = z.Select(v => v + 1e-3 * (rng.NextDouble() - 0.5)).ToArray();
            if (kind == ActivationKind.Tanh) zp = zp.Select(v => Math.Clamp(v, -0.999999, 0.999999)).ToArray();
            perturbed.CopyFrom(zp);
            p.Map.Objective(perturbed, g);
            var gp = g.ToArray();
            for (int s = 0; s < batch; s++)
                if (double.IsFinite(gp[s])) Assert.That(gp[s], Is.GreaterThan(anderson.Objective![s] - 1e-12), $"trial {trial} sample {s}");
        }
    }

    [TestCase(ActivationKind.ReLU)]
    [TestCase(ActivationKind.Tanh)]
    public void AcceleratedSolversNeedFewerIterationsWhenIllConditioned(ActivationKind kind)
    {
        var activation = kind == ActivationKind.ReLU ? Activation.ReLU : Activation.Tanh;
        const int batch = 8, d = 48;
        using var p = new Problems.OptEqProblem<double>(_device, activation, batch, d, rho: 0.99, seed: 17);
        int Iterations(IForwardSolver solver)
        {
            using var r = SolverRegistry.Solve(p.Map, p.Z0, new SolverOptions { Solver = solver, MaxIterations = 3000, Tolerance = 1e-5, Stop = StopCriterion.Relative, Memory = 6, CheckEvery = 1 });
            Assert.That(r.AllConverged, Is.True, $"{solver}: {string.Join(", ", r.Status)}");
            return r.SampleIterations.Max();
        }
        int picard = Iterations(ForwardSolvers.Picard), anderson = Iterations(ForwardSolvers.Anderson), fista = Iterations(ForwardSolvers.Fista);
        TestContext.Out.WriteLine($"{kind}: picard {picard}, anderson {anderson}, fista {fista}");
        Assert.That(anderson, Is.LessThan(picard));
        Assert.That(fista, Is.LessThan(picard));
    }

    /// <summary>
    /// ||W||₂ = 1 with W the projection onto the first k coordinates, ReLU, c ≤ 0 on those coordinates: the fixed points
    /// form a known box (free nonnegative where c = 0, zero where c &lt; 0, c⁺ elsewhere). Halpern from the anchor a
    /// must return the box point nearest a: max(aᵢ, 0), 0, cᵢ⁺.
    /// </summary>
    [TestCase("halpern")]
    [TestCase("hybrid-steepest-descent")]
    public void AnchoredIterationReturnsTheFixedPointNearestTheAnchor(string kind)
    {
        const int batch = 3, d = 10, k = 6;
        var rng = new Random(23);
        var m = new double[d * d];
        for (int i = 0; i < k; i++) m[i * d + i] = 1;
        var c = new double[batch * d];
        var anchor = Problems.Gaussian(rng, batch * d);
        var expected = new double[batch * d];
        for (int s = 0; s < batch; s++)
            for (int i = 0; i < d; i++)
            {
                int idx = s * d + i;
                if (i < k) { c[idx] = i % 2 == 0 ? 0 : -0.5; expected[idx] = c[idx] == 0 ? Math.Max(anchor[idx], 0) : 0; }
                else { c[idx] = rng.NextDouble() - 0.5; expected[idx] = Math.Max(c[idx], 0); }
            }
        using var metric = _device.FromArray(m, d, d);
        using var injection = _device.FromArray(c, batch, d);
        using var map = new OptEqMap<double>(Activation.ReLU, metric, injection, 1.0);
        using var z0 = _device.FromArray(anchor, batch, d);
        using var result = SolverRegistry.Solve(map, z0, new SolverOptions { Solver = SolverRegistry.Forward[kind], MaxIterations = 20000, Tolerance = 1e-6, Stop = StopCriterion.Absolute, CheckEvery = 100 });
        var z = result.Solution.ToArray();
        for (int i = 0; i < z.Length; i++) Assert.That(z[i], Is.EqualTo(expected[i]).Within(1e-4), $"element {i}");
    }

    [Test]
    public void NonFiniteSampleIsFlaggedAndOthersAreIntact()
    {
        const int batch = 4, d = 16;
        using var p = new Problems.OptEqProblem<double>(_device, Activation.Tanh, batch, d, rho: 0.9, seed: 8);
        var options = new SolverOptions { Solver = ForwardSolvers.Anderson, MaxIterations = 200, Tolerance = 1e-10, Stop = StopCriterion.Absolute };
        using var clean = SolverRegistry.Solve(p.Map, p.Z0, options);
        var z0 = new double[batch * d];
        z0[2 * d + 3] = double.NaN;
        using var dirty = _device.FromArray(z0, batch, d);
        using var result = SolverRegistry.Solve(p.Map, dirty, options);
        Assert.That(result.Status[2], Is.EqualTo(SampleStatus.NonFinite));
        var a = clean.Solution.ToArray(); var b = result.Solution.ToArray();
        foreach (int s in new[] { 0, 1, 3 })
        {
            Assert.That(result.Status[s], Is.EqualTo(SampleStatus.Converged));
            for (int j = 0; j < d; j++) Assert.That(b[s * d + j], Is.EqualTo(a[s * d + j]).Within(1e-9));
        }
    }

    [Test]
    public void ConvergedSamplesStopWhileOthersContinue()
    {
        const int batch = 3, d = 8;
        using var p = new Problems.OptEqProblem<double>(_device, Activation.ReLU, batch, d, rho: 0.95, seed: 2);
        // Sample 1: c = −1 everywhere ⇒ z* = 0 = z0, converged at the first check.
        var c = p.InjectionHost.ToArray();
        for (int j = 0; j < d; j++) c[d + j] = -1;
        p.Injection.CopyFrom(c);
        using var r = SolverRegistry.Solve(p.Map, p.Z0, new SolverOptions { Solver = ForwardSolvers.Picard, MaxIterations = 500, Tolerance = 1e-9, Stop = StopCriterion.Absolute, RecordTrace = true });
        Assert.That(r.SampleIterations[1], Is.EqualTo(1));
        Assert.That(r.SampleIterations[0], Is.GreaterThan(10));
        Assert.That(r.TraceAbs![r.Iterations - 1, 1], Is.EqualTo(0));
        Assert.That(r.AllConverged, Is.True);
    }

    [Test]
    public void CertificateBoundsTheTrueError()
    {
        const int batch = 4, d = 24;
        using var p = new Problems.OptEqProblem<double>(_device, Activation.ReLU, batch, d, rho: 0.9, seed: 4);
        using var exact = SolverRegistry.Solve(p.Map, p.Z0, new SolverOptions { Solver = ForwardSolvers.Anderson, MaxIterations = 500, Tolerance = 1e-13, Stop = StopCriterion.Absolute });
        using var rough = SolverRegistry.Solve(p.Map, p.Z0, new SolverOptions { Solver = ForwardSolvers.Picard, MaxIterations = 6, Tolerance = 0 });
        var zs = exact.Solution.ToArray(); var zr = rough.Solution.ToArray();
        for (int s = 0; s < batch; s++)
        {
            double err = Math.Sqrt(Enumerable.Range(0, d).Sum(j => Math.Pow(zr[s * d + j] - zs[s * d + j], 2)));
            Assert.That(rough.DistanceBound![s], Is.GreaterThanOrEqualTo(err));
            Assert.That(rough.Status[s], Is.EqualTo(SampleStatus.MaxIterations));
        }
    }

    [Test]
    public void SplittingSolversAgreeOnAMonotoneMap()
    {
        // Monotone parameterisation W = (1 − m)I − AᵀA + B − Bᵀ, m = 0.5, ReLU (docs/math.md §3).
        const int batch = 3, d = 12;
        var rng = new Random(9);
        var a = Problems.Gaussian(rng, d * d, 0.15); var b = Problems.Gaussian(rng, d * d, 0.15);
        var ata = new double[d * d];
        ReferenceKernels.Gemm(true, false, d, d, d, 1, a, a, 0, ata);
        var w = new double[d * d];
        for (int i = 0; i < d; i++) for (int j = 0; j < d; j++) w[i * d + j] = (i == j ? 0.5 : 0) - ata[i * d + j] + b[i * d + j] - b[j * d + i];
        using var weight = _device.FromArray(w, d, d);
        using var injection = _device.FromArray(Problems.Gaussian(rng, batch * d), batch, d);
        using var map = new AffineActivationMap<double>(Activation.ReLU, weight, injection);
        using var z0 = _device.Allocate<double>(batch, d);
        var opts = new SolverOptions { MaxIterations = 2000, Tolerance = 1e-10, Stop = StopCriterion.Absolute, SplittingStep = 0.5 };
        using var pr = SolverRegistry.Solve(map, z0, opts with { Solver = ForwardSolvers.PeacemanRachford });
        using var fb = SolverRegistry.Solve(map, z0, opts with { Solver = ForwardSolvers.ForwardBackward, SplittingStep = 0.1 });
        Assert.That(pr.AllConverged && fb.AllConverged, Is.True, $"PR {string.Join(",", pr.Status)} FB {string.Join(",", fb.Status)}");
        var x = pr.Solution.ToArray(); var y = fb.Solution.ToArray();
        for (int i = 0; i < x.Length; i++) Assert.That(x[i], Is.EqualTo(y[i]).Within(1e-8));
    }

    [Test]
    public void SolversRunInFloat32()
    {
        const int batch = 16, d = 32;
        using var p = new Problems.OptEqProblem<float>(_device, Activation.ReLU, batch, d, rho: 0.9, seed: 6);
        foreach (var kind in new[] { ForwardSolvers.Picard, ForwardSolvers.Anderson, ForwardSolvers.Broyden, ForwardSolvers.Fista })
        {
            using var r = SolverRegistry.Solve(p.Map, p.Z0, new SolverOptions { Solver = kind, MaxIterations = 500, Tolerance = 1e-5 });
            Assert.That(r.AllConverged, Is.True, $"{kind}: {string.Join(", ", r.Status)}");
            Assert.That(r.RelResidual.Max(), Is.LessThanOrEqualTo(1e-5));
        }
    }
}
