using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using OptEq.Autodiff.Data;
using OptEq.Autodiff.Evaluation;
using OptEq.Autodiff.Losses;
using OptEq.Autodiff.Models;
using OptEq.Cli.Reporting;
using OptEq.Kernels;

namespace OptEq.Cli.Commands;

/// <summary><c>opteq eval --checkpoint F</c>: test accuracy, confusion matrix, solver iterations and certificate statistics (from the library's <see cref="Evaluator"/>).</summary>
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
            OptionChecks.Range(parse.GetValue(batch), batch.Name, 1, TrainOptionChecks.MaxBatch);
            using var dev = DeviceCatalog.Open(parse.GetValue(device));
            // The loss it was trained with fixes the prediction rule (argmax, or the nearest MMC centre) and the loss reported.
            using var model = ModelCheckpoint.LoadWithLoss(dev, parse.GetValue(checkpoint)!, out var trainedLoss);
            var config = model.Config;
            var (_, test) = DatasetLoader.Load(parse.GetValue(data), config.Classes);
            if (test.Pixels != config.Input)
                throw new ShapeException($"the checkpoint's model expects {config.Input} inputs; the test images have {test.Pixels} pixels");
            test.Standardize(config.InputMean, config.InputStd);
            int classes = config.Classes;
            using var evaluator = new Evaluator(dev, model, parse.GetValue(batch), trainedLoss);
            var result = evaluator.Evaluate(test);
            var forward = result.Forward;
            var confusion = result.Confusion;
            var stats = new Dictionary<string, object>
            {
                ["eval"] = "test", ["checkpoint"] = Path.GetFullPath(parse.GetValue(checkpoint)!), ["model"] = config.Model, ["parameters"] = model.ParameterCount,
                ["samples"] = result.Samples, ["accuracy"] = result.Accuracy, ["loss"] = result.Loss, ["loss_kind"] = trainedLoss.Name,
                ["forward_iterations_mean"] = forward.MeanIterations, ["forward_iterations_max"] = forward.MaxIterations,
                ["rel_residual_max"] = forward.MaxRelResidual, ["rel_residual_median"] = forward.MedianRelResidual,
            };
            if (forward.MaxDistanceBound is double boundMax) { stats["distance_bound_max"] = boundMax; stats["distance_bound_median"] = forward.MedianDistanceBound!.Value; }
            if (forward.MeanObjective is double objectiveMean) stats["objective_mean"] = objectiveMean;
            if (parse.GetValue(json))
            {
                stats["confusion"] = Enumerable.Range(0, classes).Select(i => Enumerable.Range(0, classes).Select(j => confusion[i, j]).ToArray()).ToArray();
                Console.WriteLine(JsonSerializer.Serialize(stats));
                return 0;
            }
            string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
            Console.WriteLine(F($"{config.Model}: {model.ParameterCount:N0} parameters; {result.Samples:N0} test images"));
            Console.WriteLine(F($"accuracy                {result.Accuracy:P2}"));
            Console.WriteLine(F($"loss                    {result.Loss:F4} ({trainedLoss.Name}; the prediction is {(trainedLoss.Kind == LossKind.Mmc ? "the nearest MMC centre" : "the argmax")})"));
            Console.WriteLine(F($"forward iterations      mean {forward.MeanIterations:F1}, max {forward.MaxIterations}"));
            Console.WriteLine(F($"relative residual       median {forward.MedianRelResidual:E2}, max {forward.MaxRelResidual:E2}"));
            if (forward.MaxDistanceBound is double bound) Console.WriteLine(F($"certificate ||z − z*||  median {forward.MedianDistanceBound:E2}, max {bound:E2}  (residual / (1 − ρ))"));
            if (forward.MeanObjective is double objective) Console.WriteLine(F($"objective G             mean {objective:F4}"));
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
}
