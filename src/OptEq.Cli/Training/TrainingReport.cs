using System.Globalization;
using OptEq.Autodiff.Models;
using OptEq.Autodiff.Training;

namespace OptEq.Cli.Training;

/// <summary>The end-of-run summary table and plots.</summary>
public static class TrainingReport
{
    public static void PrintSummary(IReadOnlyList<EpochMetrics> history, Classifier<float> model, ModelConfig config)
    {
        if (history.Count == 0) return;
        var last = history[^1];
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"model",-22}{config.Model} ({config.Activation}, hidden {config.Hidden}, γ {config.Gamma}, {config.Solver} / {config.Backward})"));
        Console.WriteLine($"{"parameters",-22}{model.ParameterCount:N0}");
        Console.WriteLine($"{"epochs",-22}{last.Epoch}");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"training time",-22}{history.Sum(h => h.Seconds):F0} s"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"test accuracy",-22}{last.TestAccuracy:P2} (best {history.Max(h => h.TestAccuracy):P2})"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"forward iterations",-22}{last.ForwardIterations:F1} per sample (converged {last.ForwardConverged:P1})"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"backward iterations",-22}{last.BackwardIterations:F1} per sample"));
    }

    public static void SavePlots(RunFolder folder, Trainer trainer) { }
}
