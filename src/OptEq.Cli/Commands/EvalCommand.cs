using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using OptEq.Autodiff;
using OptEq.Autodiff.Data;
using OptEq.Autodiff.Models;
using OptEq.Cli.Reporting;
using OptEq.Kernels;

namespace OptEq.Cli.Commands;

/// <summary><c>opteq eval --checkpoint F</c>: test accuracy, confusion matrix, solver iterations and certificate statistics.</summary>
public static class EvalCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "A checkpoint written by 'opteq train'.", Required = true };
        var data = new Option<string?>("--data") { Description = "A folder with train/t10k IDX files; default: the bundled MNIST." };
        var batch = new Option<int>("--batch") { Description = "Evaluation batch size.", DefaultValueFactory = _ => 1000 };
        var json = CommonOptions.Json();
        var device = CommonOptions.Device();
        var command = new Command("eval", "Evaluate a checkpoint on the test set: accuracy, confusion matrix, iterations and certificates.") { checkpoint, data, batch, json, device };
        command.SetAction(parse =>
        {
            using var dev = DeviceCatalog.Open(parse.GetValue(device));
            using var model = ModelCheckpoint.Load(dev, parse.GetValue(checkpoint)!);
            var config = model.Config;
            var (_, test) = DatasetLoader.Load(parse.GetValue(data), config.Classes);
            if (test.Pixels != config.Input)
                throw new ShapeException($"the checkpoint's model expects {config.Input} inputs; the test images have {test.Pixels} pixels");
            test.Standardize(config.InputMean, config.InputStd);
            int classes = config.Classes, correct = 0;
            var confusion = new int[classes, classes];
            var iterations = new List<int>();
            var residuals = new List<double>();
            var bounds = new List<double>();
            var objectives = new List<double>();
            using var iterator = new BatchIterator(dev, test, parse.GetValue(batch), seed: 0, shuffle: false);
            var logits = new float[parse.GetValue(batch) * classes];
            foreach (var b in iterator.Epoch(0))
            {
                using var tape = Tape<float>.NoGrad(dev);
                var output = model.Forward(tape.Constant(b.Images));
                output.Value.Slice(0, b.Count).CopyTo(logits.AsSpan(0, b.Count * classes));
                var labels = b.Labels.Slice(0, b.Count).ToArray();
                for (int s = 0; s < b.Count; s++)
                {
                    int best = 0;
                    for (int c = 1; c < classes; c++) if (logits[s * classes + c] > logits[s * classes + best]) best = c;
                    confusion[labels[s], best]++;
                    if (best == labels[s]) correct++;
                }
                var r = model.Report;
                iterations.AddRange(r.ForwardSampleIterations);
                residuals.AddRange(r.ForwardRelResidual);
                if (r.ForwardDistanceBound is { } db) bounds.AddRange(db);
                if (r.ForwardObjective is { } g) objectives.AddRange(g);
            }
            double accuracy = correct / (double)test.Count;
            var stats = new Dictionary<string, object>
            {
                ["eval"] = "test", ["checkpoint"] = Path.GetFullPath(parse.GetValue(checkpoint)!), ["model"] = config.Model, ["parameters"] = model.ParameterCount,
                ["samples"] = test.Count, ["accuracy"] = accuracy,
                ["forward_iterations_mean"] = iterations.Count == 0 ? 0 : iterations.Average(), ["forward_iterations_max"] = iterations.Count == 0 ? 0 : iterations.Max(),
                ["rel_residual_max"] = residuals.Count == 0 ? 0 : residuals.Max(), ["rel_residual_median"] = Median(residuals),
            };
            if (bounds.Count > 0) { stats["distance_bound_max"] = bounds.Max(); stats["distance_bound_median"] = Median(bounds); }
            if (objectives.Count > 0) stats["objective_mean"] = objectives.Average();
            if (parse.GetValue(json))
            {
                stats["confusion"] = Enumerable.Range(0, classes).Select(i => Enumerable.Range(0, classes).Select(j => confusion[i, j]).ToArray()).ToArray();
                Console.WriteLine(JsonSerializer.Serialize(stats));
                return 0;
            }
            string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
            Console.WriteLine(F($"{config.Model}: {model.ParameterCount:N0} parameters; {test.Count:N0} test images"));
            Console.WriteLine(F($"accuracy                {accuracy:P2}"));
            Console.WriteLine(F($"forward iterations      mean {stats["forward_iterations_mean"]:F1}, max {stats["forward_iterations_max"]}"));
            Console.WriteLine(F($"relative residual       median {Median(residuals):E2}, max {stats["rel_residual_max"]:E2}"));
            if (bounds.Count > 0) Console.WriteLine(F($"certificate ||z − z*||  median {Median(bounds):E2}, max {bounds.Max():E2}  (residual / (1 − ρ))"));
            if (objectives.Count > 0) Console.WriteLine(F($"objective G             mean {objectives.Average():F4}"));
            Console.WriteLine();
            var header = new List<string> { "true \\ predicted" };
            header.AddRange(Enumerable.Range(0, classes).Select(c => c.ToString(CultureInfo.InvariantCulture)));
            var rows = Enumerable.Range(0, classes).Select(i => (IReadOnlyList<string>)
                new[] { i.ToString(CultureInfo.InvariantCulture) }.Concat(Enumerable.Range(0, classes).Select(j => confusion[i, j].ToString(CultureInfo.InvariantCulture))).ToList()).ToList();
            SummaryTable.Print("confusion matrix", header, rows);
            return 0;
        });
        return command;
    }

    private static double Median(List<double> values)
    {
        if (values.Count == 0) return 0;
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }
}
