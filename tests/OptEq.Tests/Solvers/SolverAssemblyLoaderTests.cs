using NUnit.Framework;
using OptEq.Cli.Bench;
using OptEq.Kernels.Activations;
using OptEq.Kernels.Native;
using OptEq.Solvers;
using OptEq.Solvers.Forward;
using OptEq.Solvers.Problems;

namespace OptEq.Tests.Solvers;

/// <summary>
/// A solver written outside the library in one class, as samples/SolverVariant does: public, a parameterless
/// constructor, only the step. The loader finds it in this test assembly (the only public IForwardSolver here).
/// </summary>
public sealed class LoaderTestRelaxedSolver : StepSolver
{
    public override string Name => "loader-test-relaxed";

    protected override void Step<T>(IFixedPointMap<T> map, int k, Tensor<T> z0, Tensor<T> z, Tensor<T> fz, SolverOptions options)
        => map.Device.Axpby(T.CreateChecked(-0.25), z, T.CreateChecked(1.25), fz, fz);
}

/// <summary><c>opteq bench solvers --solvers-from</c>: loading solvers from an assembly, and its clear errors. Each test fills a registry of its own.</summary>
public class SolverAssemblyLoaderTests
{
    private static Registry<IForwardSolver> Fresh() => new("forward solver", ReferenceEqualityComparer.Instance);

    private static string TestAssembly => typeof(LoaderTestRelaxedSolver).Assembly.Location;

    [Test]
    public void RegistersThePublicSolversOfAnAssemblyAndTheySolve()
    {
        var registry = Fresh();
        var loaded = SolverAssemblyLoader.Load(TestAssembly, registry);
        Assert.That(loaded.Select(s => s.Name), Is.EqualTo(new[] { "loader-test-relaxed" }));
        Assert.That(registry["loader-test-relaxed"], Is.SameAs(loaded[0]));

        using var device = new NativeCpuDevice();
        using var problem = new SyntheticOptEq<float>(device, Activation.ReLU, 8, 32, 0.9, seed: 3);
        using var z0 = device.Allocate<float>(8, 32);
        var options = new SolverOptions { Solver = loaded[0], MaxIterations = 500, Tolerance = 1e-4 };
        using var result = SolverRegistry.Solve(problem.Map, z0, options);
        Assert.That(result.AllConverged, Is.True);
        Assert.That(result.Objective, Is.Not.Null, "the base class certifies an outside solver's answer like a built-in one's");
    }

    [Test]
    public void ANameAlreadyTakenIsAClashNamingBothTypes()
    {
        var registry = Fresh();
        SolverAssemblyLoader.Load(TestAssembly, registry);
        var e = Assert.Throws<ArgumentException>(() => SolverAssemblyLoader.Load(TestAssembly, registry))!;
        Assert.That(e.Message, Does.Contain("loader-test-relaxed").And.Contain("already holds").And.Contain(TestAssembly));
    }

    [Test]
    public void AMissingFileIsNamed()
    {
        var e = Assert.Throws<ArgumentException>(() => SolverAssemblyLoader.Load("/nonexistent/Solvers.dll", Fresh()))!;
        Assert.That(e.Message, Does.Contain("/nonexistent/Solvers.dll").And.Contain("no such file"));
    }

    [Test]
    public void AFileThatIsNotAnAssemblyIsNamed()
    {
        string path = Path.Combine(Path.GetTempPath(), $"opteq-not-an-assembly-{Guid.NewGuid():N}.dll");
        File.WriteAllText(path, "not a portable executable");
        try
        {
            var e = Assert.Throws<ArgumentException>(() => SolverAssemblyLoader.Load(path, Fresh()))!;
            Assert.That(e.Message, Does.Contain(path).And.Contain("not a .NET assembly"));
        }
        finally { File.Delete(path); }
    }

    [Test]
    public void AnAssemblyWithoutSolversIsNamed()
    {
        string path = typeof(Assert).Assembly.Location; // NUnit: public types, none a solver
        var registry = Fresh();
        var e = Assert.Throws<ArgumentException>(() => SolverAssemblyLoader.Load(path, registry))!;
        Assert.That(e.Message, Does.Contain(path).And.Contain("no public"));
        Assert.That(registry.Names, Is.Empty);
    }

    [Test]
    public void MedianOfIterationCounts()
    {
        Assert.That(CheckpointSolverBench.Median([5, 1, 3]), Is.EqualTo(3));
        Assert.That(CheckpointSolverBench.Median([4, 1, 3, 2]), Is.EqualTo(2.5));
        Assert.That(CheckpointSolverBench.Median([double.NaN, 7]), Is.EqualTo(7));
    }
}
