using NUnit.Framework;
using OptEq.Autodiff;
using OptEq.Autodiff.Layers;
using OptEq.Kernels.Activations;
using OptEq.Kernels.Native;
using OptEq.Kernels.Reference;
using OptEq.Solvers;

namespace OptEq.Tests.Autodiff;

public class LayerTests
{
    private NativeCpuDevice _device = null!;
    [OneTimeSetUp] public void Open() => _device = new NativeCpuDevice();
    [OneTimeTearDown] public void Close() => _device.Dispose();

    private static readonly SolverOptions Tight = new() { Solver = ForwardSolvers.Anderson, MaxIterations = 500, Tolerance = 1e-13, Stop = StopCriterion.Absolute };

    private double[] Input(int batch, int input, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, batch * input).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
    }

    /// <summary>Runs loss = Σ(out ⊙ R) forward and backward; returns the loss and every parameter's gradient.</summary>
    private (double Loss, double[][] Grads, double[] Output) LossAndGradients(ILayer<double> layer, double[] x, int batch, int input)
    {
        foreach (var p in layer.Parameters()) p.ZeroGrad();
        using var xt = _device.FromArray(x, batch, input);
        using var tape = new Tape<double>(_device);
        var output = layer.Forward(tape.Constant(xt));
        var r = Enumerable.Range(0, (int)output.Value.Length).Select(i => Math.Sin(i + 1.0)).ToArray();
        using var rt = _device.FromArray(r, output.Shape);
        var loss = Ops.Sum(Ops.Mul(output, tape.Constant(rt)));
        tape.Backward(loss);
        return (loss.Value.ToArray()[0], layer.Parameters().Select(p => p.Grad.ToArray()).ToArray(), output.Value.ToArray());
    }

    [TestCase(ActivationKind.Tanh)]
    [TestCase(ActivationKind.ReLU)]
    public void ImplicitGradientsEqualAFullyUnrolledConvergedSolve(ActivationKind kind)
    {
        var activation = kind == ActivationKind.Tanh ? Activation.Tanh : Activation.ReLU;
        var x = Input(4, 7, 1);
        OptEqLayerOptions Options(BackwardOptions b) => new() { Input = 7, Hidden = 9, Activation = activation, Gamma = 0.8, Forward = Tight, Backward = b };
        using var implicitLayer = new OptEqLayer<double>(_device, "l", Options(new BackwardOptions { Adjoint = AdjointSolvers.ConjugateGradient, AdjointOptions = Tight }), new Random(3));
        // ρ = 0.64: 300 unrolled steps converge far below float64 resolution (0.64^300 ≈ 1e-58).
        using var unrolledLayer = new OptEqLayer<double>(_device, "l", Options(new BackwardOptions { Mode = BackwardMode.Unrolled, Steps = 300 }), new Random(3));
        var a = LossAndGradients(implicitLayer, x, 4, 7);
        var b = LossAndGradients(unrolledLayer, x, 4, 7);
        Assert.That(a.Loss, Is.EqualTo(b.Loss).Within(1e-12));
        for (int p = 0; p < a.Grads.Length; p++)
            for (int i = 0; i < a.Grads[p].Length; i++)
                Assert.That(a.Grads[p][i], Is.EqualTo(b.Grads[p][i]).Within(1e-10), $"parameter {p} entry {i}");
    }

    [Test]
    public void LayerEquilibriumMinimisesTheObjective()
    {
        const int batch = 3, input = 5, d = 8;
        var x = Input(batch, input, 2);
        using var layer = new OptEqLayer<double>(_device, "l", new OptEqLayerOptions { Input = input, Hidden = d, Activation = Activation.Softplus, Gamma = 0.9, Forward = Tight }, new Random(4));
        var z = LossAndGradients(layer, x, batch, input).Output;
        // Rebuild W = γV/||V||_F, M = WᵀW and c = xUᵀ + b on the host and evaluate G directly.
        var v = layer.V.Value.ToArray(); var u = layer.U.Value.ToArray(); var b = layer.B.Value.ToArray();
        double norm = Math.Sqrt(v.Sum(e => e * e));
        var w = v.Select(e => 0.9 * e / norm).ToArray();
        var m = new double[d * d];
        ReferenceKernels.Gemm(true, false, d, d, d, 1, w, w, 0, m);
        var c = new double[batch * d];
        ReferenceKernels.Gemm(false, true, batch, d, input, 1, x, u, 0, c);
        for (int s = 0; s < batch; s++) for (int j = 0; j < d; j++) c[s * d + j] += b[j];
        var softplus = new Softplus<double>();
        double G(double[] zz, int s)
        {
            double g = 0;
            for (int i = 0; i < d; i++)
            {
                double mz = 0;
                for (int j = 0; j < d; j++) mz += m[i * d + j] * zz[s * d + j];
                g += softplus.Penalty(zz[s * d + i]) + 0.5 * zz[s * d + i] * zz[s * d + i] - 0.5 * zz[s * d + i] * mz - c[s * d + i] * zz[s * d + i];
            }
            return g;
        }
        var rng = new Random(5);
        for (int s = 0; s < batch; s++)
        {
            double best = G(z, s);
            for (int trial = 0; trial < 50; trial++)
            {
                var zp = z.Select(e => Math.Max(e + 1e-3 * (rng.NextDouble() - 0.5), 1e-9)).ToArray();
                Assert.That(G(zp, s), Is.GreaterThan(best), $"sample {s} trial {trial}");
            }
        }
    }

    [Test]
    public void ImplicitLayerProjectionKeepsTheInfinityNormBound()
    {
        using var idl = new ImplicitLayer<double>(_device, "idl", 4, 6, 3, new Random(1), kappa: 0.95);
        Assert.That(idl.InfinityNorm(), Is.LessThanOrEqualTo(0.95 + 1e-12));
        // A step that blows A up, then the optimizer's AfterStep hook.
        var big = Enumerable.Range(0, 36).Select(i => 3 * Math.Sin(i)).ToArray();
        idl.A.Value.CopyFrom(big);
        idl.A.AfterStep!(idl.A);
        Assert.That(idl.InfinityNorm(), Is.LessThanOrEqualTo(0.95 + 1e-12));
        Assert.That(idl.PerronFrobenius(), Is.LessThan(1));
        // The projection is the nearest point of the ball: every row lies on the sphere and no point of the ball on the
        // segment towards a random ball point is closer to the original row.
        var projected = idl.A.Value.ToArray();
        for (int r = 0; r < 6; r++)
        {
            var row = big.Skip(r * 6).Take(6).ToArray();
            var p = projected.Skip(r * 6).Take(6).ToArray();
            Assert.That(p.Sum(Math.Abs), Is.EqualTo(0.95).Within(1e-12));
            double dist = Distance(row, p);
            var rng = new Random(r);
            for (int t = 0; t < 200; t++)
            {
                var q = Enumerable.Range(0, 6).Select(_ => rng.NextDouble() - 0.5).ToArray();
                double l1 = q.Sum(Math.Abs);
                q = q.Select(e => e * 0.95 / l1 * rng.NextDouble()).ToArray();
                Assert.That(Distance(row, q), Is.GreaterThanOrEqualTo(dist - 1e-12));
            }
        }
        var bound = idl.RobustnessBound();
        Assert.That(bound.GetLength(0), Is.EqualTo(3));
        Assert.That(bound.Cast<double>().All(e => e >= 0 && double.IsFinite(e)), Is.True);
    }

    private static double Distance(double[] a, double[] b) => Math.Sqrt(a.Zip(b, (x, y) => (x - y) * (x - y)).Sum());

    [Test]
    public void MonotoneLayerWithASymmetricWeightMatchesTheOptEqLayer()
    {
        const int batch = 3, input = 5, d = 6;
        const double margin = 0.1;
        var x = Input(batch, input, 7);
        using var opteq = new OptEqLayer<double>(_device, "l", new OptEqLayerOptions { Input = input, Hidden = d, Activation = Activation.ReLU, Gamma = 0.9, Forward = Tight, Backward = new BackwardOptions { Adjoint = AdjointSolvers.Anderson, AdjointOptions = Tight } }, new Random(8));
        using var mon = new MonotoneLayer<double>(_device, "l", input, d, new Random(9), Activation.ReLU, margin,
            Tight with { Solver = ForwardSolvers.PeacemanRachford, MaxIterations = 3000 }, new BackwardOptions { Adjoint = AdjointSolvers.Anderson, AdjointOptions = Tight });
        // Set the monotone weight (1 − m)I − AᵀA + B − Bᵀ to M = WᵀW: B = 0, AᵀA = (1 − m)I − M, A = Lᵀ (Cholesky).
        var v = opteq.V.Value.ToArray();
        double norm = Math.Sqrt(v.Sum(e => e * e));
        var w = v.Select(e => 0.9 * e / norm).ToArray();
        var m = new double[d * d];
        ReferenceKernels.Gemm(true, false, d, d, d, 1, w, w, 0, m);
        var s = new double[d * d];
        for (int i = 0; i < d; i++) for (int j = 0; j < d; j++) s[i * d + j] = (i == j ? 1 - margin : 0) - m[i * d + j];
        var l = Cholesky(s, d);
        var a = new double[d * d];
        for (int i = 0; i < d; i++) for (int j = 0; j < d; j++) a[i * d + j] = l[j * d + i];
        mon.A.Value.CopyFrom(a);
        mon.B.Value.CopyFrom(new double[d * d]);
        mon.U.Value.CopyFrom(opteq.U.Value.ToArray());
        mon.Bias.Value.CopyFrom(opteq.B.Value.ToArray());

        var ro = LossAndGradients(opteq, x, batch, input);
        var rm = LossAndGradients(mon, x, batch, input);
        for (int i = 0; i < ro.Output.Length; i++) Assert.That(rm.Output[i], Is.EqualTo(ro.Output[i]).Within(1e-10));
        // U and b play the same role in both layers: their gradients must agree.
        var gradOpt = opteq.Parameters().ToDictionary(p => p.Name, p => p.Grad.ToArray());
        var gradMon = mon.Parameters().ToDictionary(p => p.Name, p => p.Grad.ToArray());
        Assert.That(gradMon["l.U"], Is.EqualTo(gradOpt["l.U"]).Within(1e-9));
        Assert.That(gradMon["l.b"], Is.EqualTo(gradOpt["l.b"]).Within(1e-9));
    }

    private static double[] Cholesky(double[] a, int n)
    {
        var l = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++)
            {
                double sum = a[i * n + j];
                for (int k = 0; k < j; k++) sum -= l[i * n + k] * l[j * n + k];
                l[i * n + j] = i == j ? Math.Sqrt(sum) : sum / l[j * n + j];
            }
        return l;
    }

    [Test]
    public void BackwardModeNamesParseAndUnknownOnesListTheValidOnes()
    {
        Assert.That(BackwardOptions.Parse("phantom:7").Steps, Is.EqualTo(7));
        Assert.That(BackwardOptions.Parse("implicit-cg").Adjoint, Is.EqualTo(AdjointSolvers.ConjugateGradient));
        Assert.That(() => BackwardOptions.Parse("magic"), Throws.ArgumentException.With.Message.Contains("jacobian-free"));
        Assert.That(() => new BackwardOptions { Steps = 0 }, Throws.TypeOf<ArgumentOutOfRangeException>());
    }
}
