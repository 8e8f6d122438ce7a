using NUnit.Framework;
using OptEq.Kernels;
using OptEq.Kernels.Activations;
using OptEq.Kernels.Native;
using OptEq.Solvers;
using OptEq.Solvers.Problems;

namespace OptEq.Tests.Solvers;

/// <summary>
/// No managed allocation inside a solver iteration: a solve of 40 iterations allocates exactly what a solve of 10 does
/// (setup and result only), on the calling thread and on the native worker threads. Sizes are large enough for every
/// native kernel to split across cores (batch 128, hidden 256). Runs on the native backend, the CPU path.
/// </summary>
public class SolverAllocationTests
{
    private NativeCpuDevice _device = null!;
    private SyntheticOptEq<float> _problem = null!;

    [OneTimeSetUp]
    public void Open()
    {
        _device = new NativeCpuDevice();
        _problem = new SyntheticOptEq<float>(_device, Activation.ReLU, batch: 128, hidden: 256, rho: 0.9, seed: 3);
    }

    [OneTimeTearDown]
    public void Close()
    {
        _problem.Dispose();
        _device.Dispose();
    }

    [Test]
    public void ForwardSolverIterationsAllocateNothing([ValueSource(typeof(SolverNames), nameof(SolverNames.Forward))] string kind)
    {
        using var z0 = _device.Allocate<float>(128, 256);
        _device.Fill(z0, 0f);
        long BytesFor(int iterations)
        {
            var options = Exactly(iterations) with { Solver = SolverRegistry.Forward[kind] };
            SolverRegistry.Solve(_problem.Map, z0, options).Dispose(); // warm-up: kernels compiled, pool filled
            return SteadyState(() => SolverRegistry.Solve(_problem.Map, z0, options).Dispose());
        }
        long ten = BytesFor(10), forty = BytesFor(40);
        Assert.That(forty, Is.EqualTo(ten), $"{kind}: managed bytes of 40 iterations ({forty}) against 10 ({ten}): {(forty - ten) / 30.0:F1} per iteration");
    }

    [Test]
    public void AdjointSolverIterationsAllocateNothing([ValueSource(typeof(SolverNames), nameof(SolverNames.Adjoint))] string kind)
    {
        using var z0 = _device.Allocate<float>(128, 256);
        _device.Fill(z0, 0f);
        using var equilibrium = SolverRegistry.Solve(_problem.Map, z0, new SolverOptions { Solver = ForwardSolvers.Anderson, MaxIterations = 200, Tolerance = 1e-5 });
        _problem.Map.PrepareAdjoint(equilibrium.Solution);
        using var g = _device.Allocate<float>(128, 256);
        _device.Fill(g, 0.01f);
        long BytesFor(int iterations)
        {
            var options = Exactly(iterations);
            var solver = SolverRegistry.Adjoint[kind]; // looked up once, as options are parsed once
            solver.Solve(_problem.Map, g, options).Dispose();
            return SteadyState(() => solver.Solve(_problem.Map, g, options).Dispose());
        }
        long ten = BytesFor(10), forty = BytesFor(40);
        Assert.That(forty, Is.EqualTo(ten), $"{kind} adjoint: managed bytes of 40 iterations ({forty}) against 10 ({ten})");
    }

    /// <summary>
    /// A solve repeated on the same map allocates nothing at all: its buffers, tracker and result object come back from
    /// the device pool when the previous result is disposed. This is what makes a training step allocation-free.
    /// Broyden is not listed: it makes views of its low-rank factors per solve (about 10 KB; none per iteration, see above).
    /// </summary>
    [Test]
    public void RepeatedSolvesAllocateNothing([Values("picard", "anderson", "fista", "forward-backward", "peaceman-rachford", "halpern", "hybrid-steepest-descent")] string kind)
    {
        using var z0 = _device.Allocate<float>(128, 256);
        _device.Fill(z0, 0f);
        var options = Exactly(10) with { Solver = SolverRegistry.Forward[kind] };
        SolverRegistry.Solve(_problem.Map, z0, options).Dispose();
        Assert.That(SteadyState(() => SolverRegistry.Solve(_problem.Map, z0, options).Dispose()), Is.Zero, $"{kind}: managed bytes of a repeated solve");
    }

    [Test]
    public void RepeatedAdjointSolvesAllocateNothing([ValueSource(typeof(SolverNames), nameof(SolverNames.Adjoint))] string kind)
    {
        using var z0 = _device.Allocate<float>(128, 256);
        _device.Fill(z0, 0f);
        _problem.Map.PrepareAdjoint(z0);
        using var g = _device.Allocate<float>(128, 256);
        _device.Fill(g, 0.01f);
        var options = Exactly(10);
        var solver = SolverRegistry.Adjoint[kind];
        solver.Solve(_problem.Map, g, options).Dispose();
        Assert.That(SteadyState(() => solver.Solve(_problem.Map, g, options).Dispose()), Is.Zero, $"{kind} adjoint: managed bytes of a repeated solve");
    }

    /// <summary>Tolerance 0, so every solve runs exactly <paramref name="iterations"/>; no traces (they grow with iterations by design).</summary>
    private static SolverOptions Exactly(int iterations)
        => new() { MaxIterations = iterations, Tolerance = 0, CheckEvery = 5, RecordTrace = false };

    /// <summary>
    /// The fewest bytes over three runs: the runtime's one-off work (a method's first tier-up, a static initialised on
    /// first use) can land in any single run; what every run allocates is the solver's.
    /// </summary>
    private static long SteadyState(Action action) => Enumerable.Range(0, 3).Min(_ => Allocated(action));

    private static long Allocated(Action action)
    {
        long caller = GC.GetAllocatedBytesForCurrentThread(), workers = WorkerTeam.WorkerAllocatedBytes;
        action();
        return GC.GetAllocatedBytesForCurrentThread() - caller + (WorkerTeam.WorkerAllocatedBytes - workers);
    }
}
