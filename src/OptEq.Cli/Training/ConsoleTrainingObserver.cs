using System.Globalization;
using OptEq.Autodiff.Training;
using OptEq.Cli.Reporting;

namespace OptEq.Cli.Training;

/// <summary>Draws a progress bar per epoch (a plain line every quarter epoch when output is not a terminal).</summary>
/// <param name="evaluation">What the epochs are evaluated on ("test", or "holdout" with --holdout).</param>
public sealed class ConsoleTrainingObserver(int epochs, string evaluation = "test") : ITrainingObserver
{
    private EpochProgress? _progress;

    public void EpochStarted(int epoch, int batches) => _progress = new EpochProgress(epoch, epochs, batches, EpochProgress.IsInteractive);

    public void BatchFinished(in BatchProgress p)
        => _progress?.Update(p.Batch, p.Loss, p.Accuracy, p.ForwardIterations, p.BackwardIterations, p.SamplesPerSecond);

    public void EpochFinished(EpochMetrics m)
    {
        _progress?.Complete(string.Create(CultureInfo.InvariantCulture,
            $"epoch {m.Epoch}/{epochs}  train loss {m.TrainLoss:F4} acc {m.TrainAccuracy:P2}  {evaluation} loss {m.TestLoss:F4} acc {m.TestAccuracy:P2}  fwd {m.ForwardIterations:F1} bwd {m.BackwardIterations:F1}  {m.SamplesPerSecond:N0} samples/s  {m.Seconds:F1} s"));
        _progress?.Dispose();
        _progress = null;
    }
}
