using NUnit.Framework;
using OptEq.Kernels.Activations;
using OptEq.Kernels.Native;
using OptEq.Kernels.Reference;
using OptEq.Solvers;

namespace OptEq.Tests.Solvers;

public class AdjointSolverTests
{
    /// <summary>Every adjoint solver returns w = (I − K J)⁻¹ g per sample (K = M symmetric, J = σ′ at z*), solved directly.</summary>
    [TestCase("cg", ActivationKind.ReLU)]
    [TestCase("cg", ActivationKind.Tanh)]
    [TestCase("fixed-point", ActivationKind.Tanh)]
    [TestCase("anderson", ActivationKind.Softplus)]
    public void AdjointEqualsDirectSolve(string adjoint, ActivationKind kind)
    {
        var activation = kind switch { ActivationKind.ReLU => Activation.ReLU, ActivationKind.Tanh => Activation.Tanh, _ => Activation.Softplus };
        using var device = new NativeCpuDevice();
        const int batch = 4, d = 18;
        using var p = new Problems.OptEqProblem<double>(device, activation, batch, d, rho: 0.9, seed: 21);
        using var forward = SolverRegistry.Solve(p.Map, p.Z0, new SolverOptions { Solver = ForwardSolvers.Anderson, MaxIterations = 300, Tolerance = 1e-12, Stop = StopCriterion.Absolute });
        p.Map.PrepareAdjoint(forward.Solution);
        var g = Problems.Gaussian(new Random(1), batch * d);
        using var gradient = device.FromArray(g, batch, d);
        using var result = SolverRegistry.Adjoint[adjoint].Solve(p.Map, gradient, new SolverOptions { MaxIterations = 500, Tolerance = 1e-12, Stop = StopCriterion.Absolute });
        Assert.That(result.AllConverged, Is.True, string.Join(", ", result.Status));

        var j = p.Map.Jacobian.ToArray();
        var w = result.Solution.ToArray();
        for (int s = 0; s < batch; s++)
        {
            var system = new double[d * d];
            for (int r = 0; r < d; r++)
                for (int c = 0; c < d; c++) system[r * d + c] = (r == c ? 1 : 0) - p.MetricHost[r * d + c] * j[s * d + c];
            var expected = ReferenceKernels.Solve(d, system, g.AsSpan(s * d, d).ToArray())!;
            for (int i = 0; i < d; i++) Assert.That(w[s * d + i], Is.EqualTo(expected[i]).Within(1e-9), $"sample {s} component {i}");
        }
    }

    [Test]
    public void ConjugateGradientNeedsAnOptEqMap()
    {
        using var device = new NativeCpuDevice();
        using var k = device.Allocate<double>(3, 3);
        using var c = device.Allocate<double>(2, 3);
        using var map = new OptEq.Solvers.Maps.AffineActivationMap<double>(Activation.ReLU, k, c);
        using var g = device.Allocate<double>(2, 3);
        Assert.That(() => AdjointSolvers.ConjugateGradient.Solve(map, g, new SolverOptions()),
            Throws.ArgumentException.With.Message.Contains("OptEqMap"));
    }
}
