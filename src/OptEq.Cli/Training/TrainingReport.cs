using System.Globalization;
using OptEq.Autodiff.Models;
using OptEq.Autodiff.Training;
using OptEq.Cli.Reporting;

namespace OptEq.Cli.Training;

/// <summary>The end-of-run summary table and the run's plots.</summary>
public static class TrainingReport
{
    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    public static void PrintSummary(IReadOnlyList<EpochMetrics> history, Classifier<float> model, ModelConfig config, string evaluation = "test")
    {
        if (history.Count == 0) return;
        var rows = history.Select(m => (IReadOnlyList<string>)
        [
            m.Epoch.ToString(CultureInfo.InvariantCulture), F($"{m.TrainLoss:F4}"), F($"{m.TrainAccuracy:P2}"), F($"{m.TestLoss:F4}"), F($"{m.TestAccuracy:P2}"),
            F($"{m.ForwardIterations:F1}"), F($"{m.BackwardIterations:F1}"), F($"{m.SamplesPerSecond:N0}"), F($"{m.Seconds:F1} s"),
        ]).ToList();
        Console.WriteLine();
        string settings = model.HasEquilibrium
            ? F($"{config.Activation}, {StateSize(config)}, γ {config.Gamma}, {config.Solver} / {config.Backward}")
            : config.Conv is not null ? F($"{config.Activation}, {StateSize(config)}") // cnn
            : F($"{config.Activation}, layers {string.Join(",", config.Layers)}");
        SummaryTable.Print(
            F($"{config.Model} ({settings}): {model.ParameterCount:N0} parameters, {history.Sum(h => h.Seconds):F0} s"),
            ["epoch", "train loss", "train acc", $"{evaluation} loss", $"{evaluation} acc", "fwd iters", "bwd iters", "samples/s", "time"], rows);
        var last = history[^1];
        string solves = model.HasEquilibrium ? F($"; forward solves converged for {last.ForwardConverged:P1} of training samples in the last epoch") : "";
        Console.WriteLine(F($"\nfinal {evaluation} accuracy {last.TestAccuracy:P2} (best {history.Max(h => h.TestAccuracy):P2}){solves}"));
    }

    /// <summary>What sizes the equilibrium state: hidden units, or the convolutional models' channels, kernel and pooling.</summary>
    private static string StateSize(ModelConfig config) => config.Conv is { } conv
        ? F($"channels {string.Join(",", conv.Channels)}, {conv.KernelSize}×{conv.KernelSize} {conv.Padding.ToString().ToLowerInvariant()} padding, pool {conv.Pool}{(conv.HeadTiers > 1 ? $", head on the last {conv.HeadTiers} tiers" : "")}")
        : F($"hidden {config.Hidden}");

    /// <summary>loss.png and accuracy.png per epoch; residuals.png: forward and backward relative residual against iteration (last batch).</summary>
    public static void SavePlots(RunFolder folder, Trainer trainer, string evaluation = "test")
    {
        var h = trainer.History;
        if (h.Count == 0) return;
        var epochs = h.Select(m => (double)m.Epoch).ToArray();
        Plots.SaveLines(folder.File("loss.png"), "Loss per epoch", "epoch", "cross-entropy",
            [new PlotSeries("train", epochs, h.Select(m => m.TrainLoss).ToArray()), new PlotSeries(evaluation, epochs, h.Select(m => m.TestLoss).ToArray())]);
        Plots.SaveLines(folder.File("accuracy.png"), "Accuracy per epoch", "epoch", "accuracy (%)",
            [new PlotSeries("train", epochs, h.Select(m => 100 * m.TrainAccuracy).ToArray()), new PlotSeries(evaluation, epochs, h.Select(m => 100 * m.TestAccuracy).ToArray())]);
        var series = new List<PlotSeries>();
        if (trainer.LastForwardTrace.Length > 0)
            series.Add(new PlotSeries("forward (mean over the batch)", Enumerable.Range(1, trainer.LastForwardTrace.Length).Select(i => (double)i).ToArray(), trainer.LastForwardTrace));
        if (trainer.LastBackwardTrace.Length > 0)
            series.Add(new PlotSeries("backward adjoint", Enumerable.Range(1, trainer.LastBackwardTrace.Length).Select(i => (double)i).ToArray(), trainer.LastBackwardTrace));
        if (series.Count > 0)
            Plots.SaveLines(folder.File("residuals.png"), "Relative residual against iteration (last training batch)", "iteration", "relative residual", series, logY: true);
    }
}
