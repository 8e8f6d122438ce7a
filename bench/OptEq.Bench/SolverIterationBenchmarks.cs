using BenchmarkDotNet.Attributes;
using OptEq.Kernels;
using OptEq.Kernels.Activations;
using OptEq.Kernels.Native;
using OptEq.Solvers;
using OptEq.Solvers.Problems;

namespace OptEq.Bench;

/// <summary>
/// One forward solve of the bench-step shape (batch 128, hidden 512, ReLU, ρ = 0.9) with the tolerance at 0, for 10
/// and for 40 iterations. The memory column is the point: both rows allocate the same, nothing (buffers, tracker and
/// result come back from the device pool), so an iteration allocates nothing. Time per iteration is the difference of
/// the rows over 30.
/// <code>dotnet run -c Release --project bench/OptEq.Bench -- --filter '*SolverIteration*'</code>
/// </summary>
[MemoryDiagnoser]
public class SolverIterationBenchmarks
{
    private NativeCpuDevice _device = null!;
    private SyntheticOptEq<float> _problem = null!;
    private Tensor<float> _z0 = null!;
    private SolverOptions _options = null!;

    [Params("picard", "anderson", "fista")]
    public string Solver { get; set; } = "";

    [Params(10, 40)]
    public int Iterations { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _device = new NativeCpuDevice();
        _problem = new SyntheticOptEq<float>(_device, Activation.ReLU, batch: 128, hidden: 512, rho: 0.9, seed: 1);
        _z0 = _device.Allocate<float>(128, 512);
        _device.Fill(_z0, 0f);
        _options = new SolverOptions { Solver = SolverRegistry.Forward[Solver], MaxIterations = Iterations, Tolerance = 0, CheckEvery = 10, RecordTrace = false };
    }

    [Benchmark]
    public void Solve() => SolverRegistry.Solve(_problem.Map, _z0, _options).Dispose();

    [GlobalCleanup]
    public void Cleanup()
    {
        _z0.Dispose();
        _problem.Dispose();
        _device.Dispose();
    }
}
