using NUnit.Framework;
using OptEq.Kernels;
using OptEq.Kernels.Activations;
using OptEq.Kernels.Native;
using OptEq.Solvers;

namespace OptEq.Tests.Solvers;

public class SolverOptionsTests
{
    [Test]
    public void InvalidOptionsAreRejectedWhenBuilt()
    {
        Assert.That(() => new SolverOptions { Tolerance = -1 }, Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("tolerance"));
        Assert.That(() => new SolverOptions { Memory = 0 }, Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("memory"));
        Assert.That(() => new SolverOptions { MaxIterations = 0 }, Throws.TypeOf<ArgumentOutOfRangeException>());
        Assert.That(() => new SolverOptions { Damping = 1.5 }, Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("damping"));
        Assert.That(() => new SolverOptions { CheckEvery = 0 }, Throws.TypeOf<ArgumentOutOfRangeException>());
        Assert.That(() => new SolverOptions { SplittingStep = 0 }, Throws.TypeOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public void UnknownSolverNameListsTheValidOnes()
    {
        var e = Assert.Throws<ArgumentException>(() => _ = SolverRegistry.Forward["newton"])!;
        Assert.That(e.Message, Does.Contain("anderson").And.Contain("peaceman-rachford"));
        Assert.That(SolverRegistry.Forward["FISTA"], Is.EqualTo(ForwardSolvers.Fista));
        Assert.That(() => _ = SolverRegistry.Adjoint["lu"], Throws.ArgumentException.With.Message.Contains("cg"));
    }

    [Test]
    public void MismatchedInitialStateIsAShapeError()
    {
        using var device = new NativeCpuDevice();
        using var p = new Problems.OptEqProblem<float>(device, Activation.ReLU, 4, 8, 0.5, 1);
        using var wrong = device.Allocate<float>(4, 9);
        Assert.That(() => SolverRegistry.Solve(p.Map, wrong, new SolverOptions()), Throws.TypeOf<ShapeException>().With.Message.Contains("[4, 8]"));
    }

    [Test]
    public void FistaNeedsAnObjective()
    {
        using var device = new NativeCpuDevice();
        using var k = device.Allocate<double>(3, 3);
        using var c = device.Allocate<double>(2, 3);
        using var map = new OptEq.Solvers.Maps.AffineActivationMap<double>(Activation.ReLU, k, c);
        using var z0 = device.Allocate<double>(2, 3);
        Assert.That(() => SolverRegistry.Solve(map, z0, new SolverOptions { Solver = ForwardSolvers.Fista }), Throws.ArgumentException.With.Message.Contains("objective"));
    }
}
