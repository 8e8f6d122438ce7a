using OptEq.Kernels;
using System.Globalization;
using OptEq.Autodiff.Data;
using OptEq.Autodiff.Growth;
using OptEq.Autodiff.Models;
using OptEq.Autodiff.Training;
using OptEq.Cli.Reporting;

namespace OptEq.Cli.Training;

/// <summary><c>opteq train --grow …</c>: trains in rounds with splits between them and saves the grown model as a normal checkpoint.</summary>
public static class GrowTraining
{
    public static int Run(Device device, ModelConfig config, TrainingOptions options, GrowthOptions growth, Dataset train, Dataset test, RunFolder folder, string? resume)
    {
        if (resume is not null) throw new ArgumentException("--resume cannot be combined with --grow (a grown run restarts its optimizer every round)");
        GrowthTrainer.Check(config.Spec, growth.Strategy); // fails before the first epoch, not after it
        var model = new Classifier<float>(device, config);
        Console.WriteLine($"{config.Model}: {model.ParameterCount:N0} parameters, growing by {growth.Strategy.Name()} to width {growth.MaxWidth}, {train} / {test.Count} test images, device {device.Id}");
        Console.WriteLine($"run folder {folder.Path}");
        var trainer = new GrowthTrainer(device, growth, options, train, test);
        try
        {
            model = trainer.Run(model, new ConsoleTrainingObserver(options.Epochs), folder.Checkpoint, round => Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"round {round.Round} after epoch {round.AfterEpoch}: width {round.WidthBefore} → {round.WidthAfter}, split λ ∈ [{(round.Lambdas.Length == 0 ? 0 : round.Lambdas.Min()):e3}, {(round.Lambdas.Length == 0 ? 0 : round.Lambdas.Max()):e3}], ΔL predicted {round.PredictedDLoss:e3}, measured {round.MeasuredDLoss:e3}")));
            folder.WriteMetrics(model.Config.Model.Name, model.ParameterCount, device.Id, trainer.History, new { config = model.Config, options, growth, rounds = trainer.Rounds });
            TrainingReport.PrintSummary(trainer.History, model, model.Config);
        }
        catch (TrainingDivergedException e)
        {
            Console.Error.WriteLine($"opteq: error: {e.Message}");
            return 3;
        }
        finally
        {
            model.Dispose();
        }
        Console.WriteLine($"\ncheckpoint {folder.Checkpoint}\nevaluate: opteq eval --checkpoint {folder.Checkpoint}");
        return 0;
    }
}
