using NUnit.Framework;
using OptEq.Autodiff;
using OptEq.Autodiff.Checks;
using OptEq.Autodiff.Layers;
using OptEq.Kernels;
using OptEq.Kernels.Activations;
using OptEq.Kernels.Native;
using OptEq.Solvers;
using OptEq.Solvers.Maps;
using OptEq.Solvers.Operators;

namespace OptEq.Tests.Conv;

/// <summary>
/// The multi-tier block operator and layer (docs/math.md §1.8), float64, tiny images (6×6, tiers of 2 and 3 channels):
/// the operator is its block definition on the unrolled matrix, its transpose and weight gradient are exact, the
/// reparameterisation bounds the whole block operator, the layer's gradients match finite differences, and the
/// equilibrium is a fixed point and the minimiser of G.
/// </summary>
public class MultiTierOperatorTests
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

    private static MultiTierGeometry Tiers(ConvPadding padding) => MultiTierGeometry.Build([2, 3], 6, 6, 3, padding);

    private Tensor<double>[] Weights(MultiTierGeometry tiers, int seed)
    {
        var blocks = tiers.Diagonal.Concat(tiers.Below).ToArray();
        return [.. blocks.Select((g, i) => Random(seed + i, 1, g.OutChannels, g.WeightColumns))];
    }

    /// <summary>Aᵀ as a dense matrix [InputSize, OutputSize], column j = Aᵀe_j, through ApplyTranspose.</summary>
    private static double[,] UnrollTranspose(ILinearOperator<double> a, Device device)
    {
        int n = a.OutputSize, m = a.InputSize;
        using var unit = device.Allocate<double>(n, n);
        var eye = new double[n * n];
        for (int i = 0; i < n; i++) eye[i * n + i] = 1;
        unit.CopyFrom(eye);
        using var columns = device.Allocate<double>(n, m);
        a.ApplyTranspose(unit, columns, 0);
        var c = columns.ToArray();
        var dense = new double[m, n];
        for (int j = 0; j < n; j++) for (int i = 0; i < m; i++) dense[i, j] = c[j * m + i];
        return dense;
    }

    [TestCase(ConvPadding.Zero)]
    [TestCase(ConvPadding.Circular)]
    public void TheBlockOperatorIsItsBlockBidiagonalDefinitionAndItsTransposeIsExact(ConvPadding padding)
    {
        var tiers = Tiers(padding);
        Assert.That((tiers.Diagonal[1].Height, tiers.Diagonal[1].Width, tiers.Size), Is.EqualTo((3, 3, 2 * 36 + 3 * 9)), "tier 2 at ⌈6/2⌉ = 3");
        var w = Weights(tiers, 40);
        try
        {
            var op = new MultiTierOperator<double>(tiers, w);
            var dense = ConvEquilibriumTests.Unroll(op, _device);
            // The definition: rows of tier i hold D_i in tier i's columns, S_i in tier i−1's columns, zeros elsewhere.
            var expected = new double[tiers.Size, tiers.Size];
            void Place(double[,] block, int row, int column)
            {
                for (int i = 0; i < block.GetLength(0); i++) for (int j = 0; j < block.GetLength(1); j++) expected[row + i, column + j] = block[i, j];
            }
            Place(ConvEquilibriumTests.Unroll(new Conv2dOperator<double>(tiers.Diagonal[0], w[0]), _device), tiers.Starts[0], tiers.Starts[0]);
            Place(ConvEquilibriumTests.Unroll(new Conv2dOperator<double>(tiers.Diagonal[1], w[1]), _device), tiers.Starts[1], tiers.Starts[1]);
            Place(ConvEquilibriumTests.Unroll(new Conv2dOperator<double>(tiers.Below[0], w[2]), _device), tiers.Starts[1], tiers.Starts[0]);
            double worst = 0;
            for (int i = 0; i < tiers.Size; i++) for (int j = 0; j < tiers.Size; j++) worst = Math.Max(worst, Math.Abs(dense[i, j] - expected[i, j]));
            Assert.That(worst, Is.LessThan(1e-13), "W = the block-bidiagonal matrix of its convolutions");
            var transpose = UnrollTranspose(op, _device);
            worst = 0;
            for (int i = 0; i < tiers.Size; i++) for (int j = 0; j < tiers.Size; j++) worst = Math.Max(worst, Math.Abs(transpose[i, j] - dense[j, i]));
            Assert.That(worst, Is.LessThan(1e-13), "ApplyTranspose is Wᵀ");

            // β accumulates: result ← W v + β·result.
            using var v = Random(50, 1, 3, tiers.Size);
            using var r0 = Random(51, 1, 3, tiers.Size);
            using var r = _device.Allocate<double>(3, tiers.Size);
            _device.Copy(r0, r);
            op.Apply(v, r, 0.5);
            var vh = v.ToArray(); var rh = r.ToArray(); var r0h = r0.ToArray();
            worst = 0;
            for (int s = 0; s < 3; s++)
                for (int i = 0; i < tiers.Size; i++)
                {
                    double e = 0.5 * r0h[s * tiers.Size + i];
                    for (int j = 0; j < tiers.Size; j++) e += dense[i, j] * vh[s * tiers.Size + j];
                    worst = Math.Max(worst, Math.Abs(rh[s * tiers.Size + i] - e));
                }
            Assert.That(worst, Is.LessThan(1e-13), "W v + β·result, row by row");
        }
        finally { foreach (var t in w) t.Dispose(); }
    }

    [Test]
    public void TheWeightGradientIsTheGradientOfTheBilinearForm()
    {
        // ⟨g, W_θ v⟩ is linear in θ, so Σ_b ⟨∂/∂θ_b, θ_b⟩ must equal ⟨g, W_θ v⟩ for any θ; and each block alone likewise.
        var tiers = Tiers(ConvPadding.Zero);
        var w = Weights(tiers, 60);
        using var v = Random(70, 1, 4, tiers.Size);
        using var g = Random(71, 1, 4, tiers.Size);
        using var wv = _device.Allocate<double>(4, tiers.Size);
        var grads = w.Select(t => _device.Allocate<double>(t.Shape)).ToArray();
        try
        {
            foreach (var t in grads) _device.Fill(t, 0);
            var op = new MultiTierOperator<double>(tiers, w);
            op.AccumulateWeightGradients(v, g, grads);
            for (int b = 0; b < w.Length; b++)
            {
                // W with only block b kept: its bilinear form is ⟨∂/∂θ_b, θ_b⟩.
                var only = w.Select((t, i) => i == b ? t : _device.Allocate<double>(t.Shape)).ToArray();
                try
                {
                    for (int i = 0; i < only.Length; i++) if (i != b) _device.Fill(only[i], 0);
                    new MultiTierOperator<double>(tiers, only).Apply(v, wv, 0);
                    double form = g.ToArray().Zip(wv.ToArray(), (x, y) => x * y).Sum();
                    double inner = grads[b].ToArray().Zip(w[b].ToArray(), (x, y) => x * y).Sum();
                    Assert.That(inner, Is.EqualTo(form).Within(1e-12 * Math.Max(1, Math.Abs(form))), $"block {b}");
                }
                finally { for (int i = 0; i < only.Length; i++) if (i != b) only[i].Dispose(); }
            }
        }
        finally { foreach (var t in w.Concat(grads)) t.Dispose(); }
    }

    [Test]
    public void TheOperatorNormReparameterisationBoundsTheWholeBlockOperator()
    {
        var tiers = Tiers(ConvPadding.Zero);
        var v = Weights(tiers, 80);
        try
        {
            using var power = new OperatorPowerIterationState<double>(_device, tiers.Size, tiers.Size, 5) { StepsPerForward = 5000 };
            using var tape = Tape<double>.NoGrad(_device);
            var w = Ops.ScaleToOperatorNorm([.. v.Select(tape.Constant)], new MultiTierOperator<double>(tiers, v), 0.9, power);
            double exactV = ConvEquilibriumTests.ExactNorm(ConvEquilibriumTests.Unroll(new MultiTierOperator<double>(tiers, v), _device));
            double exactW = ConvEquilibriumTests.ExactNorm(ConvEquilibriumTests.Unroll(new MultiTierOperator<double>(tiers, [.. w.Select(x => x.Value)]), _device));
            Assert.That(power.Sigma, Is.EqualTo(exactV).Within(1e-5 * exactV), "σ from the power iteration on VᵀV is ||V||₂ of the block operator");
            Assert.That(exactW, Is.LessThanOrEqualTo(0.9 * (1 + 1e-5)), "||W||₂ ≤ γ on the whole block operator, up to the iteration's error");
            Assert.That(exactW, Is.GreaterThanOrEqualTo(0.9 * (1 - 1e-12)), "and equal to γ: the bound is tight");
            for (int b = 0; b < v.Length; b++)
            {
                var vb = v[b].ToArray(); var wb = w[b].Value.ToArray();
                Assert.That(vb.Zip(wb, (x, y) => Math.Abs(y - 0.9 / power.Sigma * x)).Max(), Is.LessThan(1e-14), $"block {b} scaled by the common γ/σ");
            }
        }
        finally { foreach (var t in v) t.Dispose(); }
    }

    /// <summary>Exact solves (tight tolerances, many power steps), 1×6×6 images, tiers of 2 and 3 channels.</summary>
    internal static MultiTierOptEqLayerOptions Exact(ObjectivePriors? priors = null) => new()
    {
        InChannels = 1, Height = 6, Width = 6, Channels = [2, 3], KernelSize = 3, InjectionStride = 1, Gamma = 0.9, PowerSteps = 2000,
        Priors = priors ?? new(),
        Forward = new SolverOptions { Solver = ForwardSolvers.Anderson, MaxIterations = 400, Tolerance = 1e-13 },
        Backward = new BackwardOptions { Adjoint = AdjointSolvers.ConjugateGradient, AdjointOptions = new SolverOptions { MaxIterations = 400, Tolerance = 1e-13 } },
    };

    [Test]
    public void TheLayerGradientsMatchFiniteDifferences()
    {
        using var layer = new MultiTierOptEqLayer<double>(_device, "tiers", Exact(), new Random(7));
        using var x = Random(5, 1, 2, 36);
        var result = GradientCheck.CheckLayer("multitier-opteq", "tiers 2,3", layer, x);
        Assert.That(result.Passes, result.ToString());
        Assert.That(result.Checked, Is.GreaterThanOrEqualTo(45), "entries of every block, U, both biases and the input are checked (random subsets of 12, repeats dropped)");
    }

    [Test]
    public void TheLayerWithPriorsMatchesFiniteDifferences()
    {
        using var layer = new MultiTierOptEqLayer<double>(_device, "tiers", Exact(new ObjectivePriors { L2 = 0.3, L1 = 0.05 }), new Random(8));
        using var x = Random(6, 1, 2, 36);
        var result = GradientCheck.CheckLayer("multitier-opteq", "ℓ2 + ℓ1 priors", layer, x);
        Assert.That(result.Passes, result.ToString());
    }

    [TestCase("anderson")]
    [TestCase("fista")]
    public void TheEquilibriumIsAFixedPointAndTheMinimiserOfG(string solver)
    {
        const double gamma = 0.9;
        var tiers = Tiers(ConvPadding.Zero);
        var w = Weights(tiers, 90);
        try
        {
            double norm = ConvEquilibriumTests.ExactNorm(ConvEquilibriumTests.Unroll(new MultiTierOperator<double>(tiers, w), _device));
            foreach (var t in w) _device.Axpby(gamma / norm, t, 0, t, t);
            using var c = Random(91, 2, 4, tiers.Size);
            using var map = new OperatorOptEqMap<double>(Activation.ReLU, new MultiTierOperator<double>(tiers, w), c, gamma * gamma);
            using var z0 = _device.Allocate<double>(4, map.Dimension);
            _device.Fill(z0, 0);
            using var result = SolverRegistry.Solve(map, z0, new SolverOptions { Solver = SolverRegistry.Forward[solver], MaxIterations = 2000, Tolerance = 1e-12, SplittingStep = 1.0 });
            Assert.That(result.ConvergedFraction, Is.EqualTo(1.0), $"{solver} converged");
            using var tz = _device.Allocate<double>(4, map.Dimension);
            map.Apply(result.Solution, tz);
            var z = result.Solution.ToArray();
            Assert.That(z.Zip(tz.ToArray(), (a, b) => Math.Abs(a - b)).Max(), Is.LessThan(1e-9), "||T(z*) − z*||∞");
            Assert.That(z.Skip(tiers.Starts[1]).Take(tiers.Sizes[1]).Any(x => x > 0), "the second tier is not all zero");
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
        finally { foreach (var t in w) t.Dispose(); }
    }
}
