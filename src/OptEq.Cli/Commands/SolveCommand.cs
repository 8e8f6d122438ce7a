using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using OptEq.Autodiff;
using OptEq.Autodiff.Data;
using OptEq.Autodiff.Layers;
using OptEq.Autodiff.Models;
using OptEq.Cli.Reporting;
using OptEq.Cli.Training;
using OptEq.Kernels;
using OptEq.Solvers;
using OptEq.Solvers.Maps;

namespace OptEq.Cli.Commands;

/// <summary>
/// <c>opteq solve --checkpoint F --index i</c>: one test image's equilibrium under every solver — the residual and the
/// objective G at every iteration, as a table and plots. The view a researcher wants when comparing solvers.
/// </summary>
public static class SolveCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "A checkpoint of an opteq model.", Required = true };
        var index = new Option<int>("--index") { Description = "Test image index.", DefaultValueFactory = _ => 0 };
        var solvers = new Option<string[]>("--solvers")
        {
            Description = $"Solvers to compare; valid: {string.Join(", ", SolverRegistry.Forward.Names)}.",
            DefaultValueFactory = _ => ["picard", "anderson", "broyden", "fista", "peaceman-rachford", "halpern"], AllowMultipleArgumentsPerToken = true,
        };
        var iterations = new Option<int>("--iterations") { Description = "Iterations per solver.", DefaultValueFactory = _ => 60 };
        var data = new Option<string?>("--data") { Description = "A folder with train/t10k IDX files; default: the bundled MNIST." };
        var output = new Option<string?>("--out") { Description = "Folder for solve.json and the plots; default: the checkpoint's folder." };
        var device = CommonOptions.Device();
        var command = new Command("solve", "Compare every solver on one test image: residual and objective at every iteration.") { checkpoint, index, solvers, iterations, data, output, device };
        command.SetAction(parse =>
        {
            string path = parse.GetValue(checkpoint)!;
            OptionChecks.Range(parse.GetValue(iterations), iterations.Name, 1, TrainOptionChecks.MaxIterations);
            using var dev = DeviceCatalog.Open(parse.GetValue(device));
            using var model = ModelCheckpoint.Load(dev, path);
            if (model.Layers.OfType<OptEqLayer<float>>().FirstOrDefault() is not { } layer || model.Layers[0] != layer)
                throw new ArgumentException($"solve inspects opteq models (it needs the objective G); {path} holds a {model.Config.Model} model");
            var (_, test) = DatasetLoader.Load(parse.GetValue(data), model.Config.Classes);
            int i = parse.GetValue(index);
            OptionChecks.Range(i, index.Name, 0, test.Count - 1, $"the test set has {test.Count} images");
            test.Standardize(model.Config.InputMean, model.Config.InputStd);
            using var x = dev.FromArray<float>(test.Image(i).ToArray(), 1, test.Pixels);
            using var tape = Tape<float>.NoGrad(dev);
            var (metric, injection, spec) = layer.Problem(tape.Constant(x));
            using var map = new OptEqMap<float>(spec.Activation, metric.Value, injection.Value, spec.SymmetricRho!.Value);
            using var z0 = dev.Allocate<float>(1, layer.Options.Hidden);
            using var g = dev.Allocate<float>(1);
            int k = parse.GetValue(iterations);
            var rows = new List<IReadOnlyList<string>>();
            var residualSeries = new List<PlotSeries>();
            var objectiveSeries = new List<PlotSeries>();
            var record = new Dictionary<string, object> { ["checkpoint"] = Path.GetFullPath(path), ["index"] = i, ["label"] = test.Labels[i], ["rho"] = map.LipschitzBound };
            var perSolver = new Dictionary<string, object>();
            double[]? reference = null;
            foreach (var name in parse.GetValue(solvers)!)
            {
                var kind = SolverRegistry.Forward[name];
                var options = new SolverOptions { Solver = kind, MaxIterations = k, Tolerance = 0, CheckEvery = k, RecordTrace = true };
                using var full = SolverRegistry.Solve(map, z0, options);
                var residual = Enumerable.Range(0, full.Iterations).Select(t => full.TraceRel![t, 0]).ToArray();
                // G at every iteration: the answer after t iterations, one solve per t (a single small sample: cheap).
                var objective = new double[full.Iterations];
                for (int t = 1; t <= full.Iterations; t++)
                {
                    using var partial = SolverRegistry.Solve(map, z0, options with { MaxIterations = t, RecordTrace = false });
                    objective[t - 1] = partial.Objective![0];
                }
                var z = full.Solution.ToArray().Select(v => (double)v).ToArray();
                reference ??= z;
                int reached = Array.FindIndex(residual, r => r <= 1e-4) + 1;
                string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
                rows.Add([name, reached > 0 ? reached.ToString(CultureInfo.InvariantCulture) : $"> {k}", F($"{full.RelResidual[0]:E2}"), F($"{full.Objective![0]:F6}"),
                    F($"{full.DistanceBound![0]:E2}"), F($"{Math.Sqrt(z.Zip(reference, (a, b) => (a - b) * (a - b)).Sum()):E2}")]);
                var steps = Enumerable.Range(1, residual.Length).Select(t => (double)t).ToArray();
                residualSeries.Add(new PlotSeries(name, steps, residual));
                objectiveSeries.Add(new PlotSeries(name, steps, objective));
                perSolver[name] = new { residual, objective, equilibrium = z };
            }
            record["solvers"] = perSolver;
            SummaryTable.Print($"test image {i} (label {test.Labels[i]}), ρ = {map.LipschitzBound:F3}",
                ["solver", "iters to 1e-4", "best rel residual", "objective G", "||z − z*|| bound", "||z − z_first||"], rows);
            var folder = new RunFolder(parse.GetValue(output) ?? Path.GetDirectoryName(Path.GetFullPath(path))!);
            RunFolder.WriteAtomically(folder.File($"solve-{i}.json"), JsonSerializer.Serialize(record));
            Plots.SaveLines(folder.File($"solve-{i}-residual.png"), $"Relative residual, test image {i}", "iteration", "relative residual", residualSeries, logY: true);
            double gMin = objectiveSeries.SelectMany(s => s.Y).Where(double.IsFinite).DefaultIfEmpty(0).Min();
            var gap = objectiveSeries.Select(s => new PlotSeries(s.Label, s.X, s.Y.Select(v => v - gMin + 1e-12).ToArray())).ToList();
            Plots.SaveLines(folder.File($"solve-{i}-objective.png"), $"Objective gap G − min G, test image {i}", "iteration", "G − min G", gap, logY: true);
            Console.WriteLine($"\nwrote {folder.File($"solve-{i}.json")}, solve-{i}-residual.png, solve-{i}-objective.png");
            return 0;
        });
        return command;
    }
}
