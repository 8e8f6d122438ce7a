using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using OptEq.Autodiff;
using OptEq.Autodiff.Data;
using OptEq.Autodiff.Layers;
using OptEq.Autodiff.Models;
using OptEq.Kernels;
using OptEq.Solvers;
using OptEq.Solvers.Maps;

namespace OptEq.Cli.Bench;

/// <summary>
/// Forward solvers on the equilibrium problems of a trained model (<c>opteq bench solvers --checkpoint F</c>): the first
/// N test images through the model's own equilibrium map, as one batch. Per solver: iterations to the tolerance (median
/// and worst sample), milliseconds for the batch (after one untimed warm-up solve), the fraction converged, and for
/// OptEq maps the objective gap G(z) − G(z_ref) against a tight reference solve (G: docs/math.md §1.2).
/// </summary>
public static class CheckpointSolverBench
{
    public sealed record Settings(string Checkpoint, string? Data, int Samples, IForwardSolver[] Solvers, int MaxIterations, double Tolerance, bool Json, string? DeviceId);

    /// <summary>The reference solve: Anderson run with no tolerance for this many iterations, keeping each sample's best iterate.</summary>
    public const int ReferenceIterations = 1000;

    public sealed record Row(string Solver, double MedianIterations, int WorstIterations, double Ms, double Converged, double? MedianGap, double? WorstGap);

    public static int Run(Settings settings)
    {
        if (settings.Samples < 1) throw new ArgumentException($"--samples must be ≥ 1, got {settings.Samples}");
        using var device = DeviceCatalog.Open(settings.DeviceId);
        using var model = ModelCheckpoint.Load(device, settings.Checkpoint);
        if (!model.HasEquilibrium)
            throw new ArgumentException($"--checkpoint: {settings.Checkpoint} holds a {model.Config.Model} model, which has no equilibrium layer: there is no equilibrium problem to bench");
        if (model.Layers.Count == 0 || model.Layers[0] is not OptEqLayer<float> layer)
            throw new NotSupportedException($"--checkpoint: bench solvers reads the equilibrium map of opteq models (an OptEq layer first); {settings.Checkpoint} holds a {model.Config.Model} model");

        var (_, test) = DatasetLoader.Load(settings.Data, model.Config.Classes);
        test.Standardize(model.Config.InputMean, model.Config.InputStd);
        int n = Math.Min(settings.Samples, test.Count);
        using var x = device.FromArray<float>(test.Images.AsSpan(0, n * test.Pixels).ToArray(), n, test.Pixels);
        using var tape = Tape<float>.NoGrad(device);
        var (metric, injection, spec) = layer.Problem(tape.Constant(x));
        using var map = new OptEqMap<float>(spec.Activation, metric.Value, injection.Value, spec.SymmetricRho!.Value);
        using var z0 = device.Allocate<float>(n, layer.Options.Hidden);

        double[]? reference = null;
        using (var tight = SolverRegistry.Solve(map, z0, new SolverOptions
               { Solver = ForwardSolvers.Anderson, MaxIterations = ReferenceIterations, Tolerance = 0, CheckEvery = ReferenceIterations }))
            reference = tight.Objective?.ToArray();

        if (!settings.Json)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{Path.GetFileName(settings.Checkpoint)}: {model.Config.Model}, hidden {layer.Options.Hidden}, γ {layer.Options.Gamma}, ρ = {map.LipschitzBound:F4}; {n} test images; device {device.Id}; tolerance rel {settings.Tolerance:g2}; at most {settings.MaxIterations} iterations{Scale(reference)}\n"));
        var options = new SolverOptions { MaxIterations = settings.MaxIterations, Tolerance = settings.Tolerance, Stop = StopCriterion.Relative, RecordTrace = false };
        var rows = new List<Row>();
        foreach (var solver in settings.Solvers)
        {
            var o = options with { Solver = solver };
            SolverRegistry.Solve(map, z0, o).Dispose(); // warm-up: kernels compiled, buffers pooled
            device.Synchronize();
            var clock = Stopwatch.StartNew();
            using var result = SolverRegistry.Solve(map, z0, o);
            device.Synchronize();
            double ms = clock.Elapsed.TotalMilliseconds;
            double[]? gaps = reference is not null && result.Objective is { } g ? g.Select((v, i) => v - reference[i]).ToArray() : null;
            rows.Add(new Row(solver.Name, Median(result.SampleIterations.Select(i => (double)i)), result.SampleIterations.Max(), ms, result.ConvergedFraction,
                gaps is null ? null : Median(gaps), gaps?.Max()));
        }
        Print(rows, settings, model.Config.Model.ToString(), map.LipschitzBound, n);
        return 0;
    }

    /// <summary>The median of the finite values (NaN when none).</summary>
    public static double Median(IEnumerable<double> values)
    {
        var v = values.Where(double.IsFinite).Order().ToArray();
        if (v.Length == 0) return double.NaN;
        return v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
    }

    private static void Print(List<Row> rows, Settings settings, string model, double rho, int samples)
    {
        if (settings.Json)
        {
            foreach (var r in rows)
                Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
                {
                    ["bench"] = "solver-checkpoint", ["checkpoint"] = Path.GetFullPath(settings.Checkpoint), ["model"] = model, ["rho"] = rho, ["samples"] = samples,
                    ["tolerance"] = settings.Tolerance, ["solver"] = r.Solver, ["iterations_median"] = r.MedianIterations, ["iterations_worst"] = r.WorstIterations,
                    ["ms"] = Math.Round(r.Ms, 3), ["converged"] = r.Converged, ["objective_gap_median"] = r.MedianGap, ["objective_gap_worst"] = r.WorstGap,
                }));
            return;
        }
        Console.WriteLine($"  {"solver",-22}{"iters median",13}{"iters worst",12}{"ms (batch)",12}{"converged",11}{"G gap median",14}{"G gap worst",13}");
        foreach (var r in rows)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {r.Solver,-22}{r.MedianIterations,13:0.#}{r.WorstIterations,12}{r.Ms,12:0.0}{r.Converged,10:P1} {Gap(r.MedianGap),13} {Gap(r.WorstGap),12}"));
        Console.WriteLine();
    }

    // G is float32: a gap of a few ulps of |G| is rounding, so the scale is printed beside the gaps.
    private static string Scale(double[]? reference) =>
        reference is null ? "" : string.Create(CultureInfo.InvariantCulture, $"; median |G(z_ref)| {Median(reference.Select(Math.Abs)):G4}");

    private static string Gap(double? gap) => gap is { } g ? g.ToString("E2", CultureInfo.InvariantCulture) : "–";
}
