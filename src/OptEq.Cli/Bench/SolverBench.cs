using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using OptEq.Kernels;
using OptEq.Kernels.Activations;
using OptEq.Solvers;
using OptEq.Solvers.Problems;

namespace OptEq.Cli.Bench;

/// <summary>
/// Iterations and time for every forward and adjoint solver to reach a relative residual on synthetic OptEq problems
/// (batch × hidden, ρ = ||W||₂², activation). Each solve is run once untimed (warm-up: kernels loaded, buffers pooled),
/// then timed; "iterations" is the slowest sample's count, "converged" the fraction of samples that reached the tolerance.
/// </summary>
public static class SolverBench
{
    public sealed record Settings(int Batch, int[] Hidden, double[] Rho, string[] Activations, IForwardSolver[] Solvers, IAdjointSolver[] Adjoints,
        int MaxIterations, double Tolerance, bool Json, string? DeviceId);

    public static int Run(Settings settings)
    {
        using var device = DeviceCatalog.Open(settings.DeviceId);
        if (!settings.Json)
            Console.WriteLine($"device {device.Id} ({device.Name}); batch {settings.Batch}; tolerance rel {settings.Tolerance:g2}; at most {settings.MaxIterations} iterations\n");
        foreach (int hidden in settings.Hidden)
            foreach (double rho in settings.Rho)
                foreach (string activationName in settings.Activations)
                {
                    var activation = Activation.Parse(activationName);
                    using var problem = new SyntheticOptEq<float>(device, activation, settings.Batch, hidden, rho, seed: hidden);
                    using var z0 = device.Allocate<float>(settings.Batch, hidden);
                    var options = new SolverOptions { MaxIterations = settings.MaxIterations, Tolerance = settings.Tolerance, Stop = StopCriterion.Relative, RecordTrace = false };
                    if (!settings.Json) Console.WriteLine($"hidden {hidden}, ρ {rho}, {activation}");
                    Tensor<float>? equilibrium = null;
                    var rows = new List<Row>();
                    foreach (var kind in settings.Solvers)
                    {
                        var o = options with { Solver = kind };
                        var (result, ms) = Timed(() => SolverRegistry.Solve(problem.Map, z0, o), device);
                        rows.Add(new Row("forward", kind.Name, hidden, rho, activation.ToString(), result.SampleIterations.Max(), ms, result.ConvergedFraction));
                        if (equilibrium is null && result.AllConverged) equilibrium = result.Solution; else result.Dispose();
                    }
                    if (equilibrium is not null && settings.Adjoints.Length > 0)
                    {
                        problem.Map.PrepareAdjoint(equilibrium);
                        var g = new float[settings.Batch * hidden];
                        var rng = new Random(1);
                        for (int i = 0; i < g.Length; i++) g[i] = (float)(rng.NextDouble() - 0.5);
                        using var gradient = device.FromArray<float>(g, settings.Batch, hidden);
                        foreach (var kind in settings.Adjoints)
                        {
                            var (result, ms) = Timed(() => kind.Solve(problem.Map, gradient, options), device);
                            rows.Add(new Row("backward", "adjoint-" + kind.Name, hidden, rho, activation.ToString(), result.SampleIterations.Max(), ms, result.ConvergedFraction));
                            result.Dispose();
                        }
                    }
                    equilibrium?.Dispose();
                    Print(rows, settings.Json);
                }
        return 0;
    }

    private static (SolverResult<float> Result, double Ms) Timed(Func<SolverResult<float>> solve, Device device)
    {
        solve().Dispose(); // warm-up
        device.Synchronize();
        var clock = Stopwatch.StartNew();
        var result = solve();
        device.Synchronize();
        return (result, clock.Elapsed.TotalMilliseconds);
    }

    private sealed record Row(string Pass, string Solver, int Hidden, double Rho, string Activation, int Iterations, double Ms, double Converged);

    private static void Print(List<Row> rows, bool json)
    {
        if (json)
        {
            foreach (var r in rows)
                Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["bench"] = "solver", ["pass"] = r.Pass, ["solver"] = r.Solver, ["hidden"] = r.Hidden, ["rho"] = r.Rho, ["activation"] = r.Activation,
                    ["iterations"] = r.Iterations, ["ms"] = Math.Round(r.Ms, 3), ["converged"] = r.Converged,
                }));
            return;
        }
        var picard = rows.FirstOrDefault(r => r.Solver == "picard");
        Console.WriteLine($"  {"pass",-9}{"solver",-26}{"iterations",11}{"ms",10}{"converged",11}{"iters vs picard",17}");
        foreach (var r in rows)
        {
            string ratio = picard is not null && r.Pass == "forward" ? (r.Iterations / (double)picard.Iterations).ToString("0.00", CultureInfo.InvariantCulture) : "";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {r.Pass,-9}{r.Solver,-26}{r.Iterations,11}{r.Ms,10:0.0}{r.Converged,10:P0} {ratio,16}"));
        }
        Console.WriteLine();
    }
}
