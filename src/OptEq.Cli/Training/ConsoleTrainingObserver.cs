using System.Globalization;
using OptEq.Autodiff.Training;

namespace OptEq.Cli.Training;

/// <summary>A plain progress line per epoch (replaced by the live progress bar where a terminal is attached).</summary>
public sealed class ConsoleTrainingObserver(int epochs) : ITrainingObserver
{
    private int _lastQuarter;

    public void EpochStarted(int epoch, int batches) => _lastQuarter = 0;

    public void BatchFinished(in BatchProgress p)
    {
        int quarter = 4 * p.Batch / p.Batches;
        if (quarter == _lastQuarter || quarter >= 4) return;
        _lastQuarter = quarter;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  epoch {p.Epoch}/{epochs} {p.Batch}/{p.Batches}  loss {p.Loss:F4}  acc {p.Accuracy:P2}  fwd {p.ForwardIterations:F1}  bwd {p.BackwardIterations:F1}  {p.SamplesPerSecond:N0} samples/s"));
    }

    public void EpochFinished(EpochMetrics m) => Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"epoch {m.Epoch}/{epochs}  train loss {m.TrainLoss:F4} acc {m.TrainAccuracy:P2}  test loss {m.TestLoss:F4} acc {m.TestAccuracy:P2}  fwd {m.ForwardIterations:F1} bwd {m.BackwardIterations:F1}  {m.SamplesPerSecond:N0} samples/s  {m.Seconds:F1} s"));
}
