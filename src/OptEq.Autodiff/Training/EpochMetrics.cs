namespace OptEq.Autodiff.Training;

/// <summary>One epoch's figures, as written to metrics.csv / metrics.json.</summary>
public sealed record EpochMetrics(
    int Epoch,
    double TrainLoss,
    double TrainAccuracy,
    double TestLoss,
    double TestAccuracy,
    double Seconds,
    double SamplesPerSecond,
    double ForwardIterations,
    double BackwardIterations,
    double ForwardConverged,
    double LearningRate);

/// <summary>Progress of one batch, for progress bars.</summary>
public readonly record struct BatchProgress(int Epoch, int Batch, int Batches, double Loss, double Accuracy, double ForwardIterations, double BackwardIterations, double SamplesPerSecond);

/// <summary>Receives training progress (the command line draws it; tests ignore it).</summary>
public interface ITrainingObserver
{
    void EpochStarted(int epoch, int batches) { }
    void BatchFinished(in BatchProgress progress) { }
    void EpochFinished(EpochMetrics metrics) { }
}

/// <summary>The loss became NaN or infinite: training stopped; the last good checkpoint (if any) was kept.</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);
