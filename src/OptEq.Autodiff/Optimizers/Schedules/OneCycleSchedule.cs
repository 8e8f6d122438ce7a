using System.Globalization;

namespace OptEq.Autodiff.Optimizers.Schedules;

/// <summary>
/// One-cycle policy (Smith), as PyTorch's OneCycleLR with cosine annealing and two phases (learning rate only; momentum
/// is not cycled). It starts at initial = max / divFactor, rises to max at step pctStart·total − 1, then falls to
/// min = initial / finalDivFactor at step total − 1, with cos interpolation lr = end + (start − end)·(1 + cos(π·t))/2
/// inside each phase. Steps after total − 1 stay at min (PyTorch raises there).
/// </summary>
public sealed class OneCycleSchedule : ILearningRateSchedule
{
    private readonly double _peakStep;

    public OneCycleSchedule(double maxLearningRate, int totalSteps, double pctStart = 0.3, double divFactor = 25, double finalDivFactor = 1e4)
    {
        MaxLearningRate = ScheduleChecks.LearningRate(maxLearningRate, nameof(maxLearningRate));
        TotalSteps = ScheduleChecks.TotalSteps(totalSteps, nameof(totalSteps));
        PctStart = pctStart > 0 && pctStart < 1 ? pctStart : throw new ArgumentOutOfRangeException(nameof(pctStart), pctStart, "pctStart must lie in (0, 1)");
        DivFactor = divFactor > 0 && double.IsFinite(divFactor) ? divFactor : throw new ArgumentOutOfRangeException(nameof(divFactor), divFactor, "divFactor must be finite and > 0");
        FinalDivFactor = finalDivFactor > 0 && double.IsFinite(finalDivFactor)
            ? finalDivFactor : throw new ArgumentOutOfRangeException(nameof(finalDivFactor), finalDivFactor, "finalDivFactor must be finite and > 0");
        _peakStep = pctStart * totalSteps - 1;   // a real number, as in PyTorch
    }

    public double MaxLearningRate { get; }
    public int TotalSteps { get; }
    public double PctStart { get; }
    public double DivFactor { get; }
    public double FinalDivFactor { get; }
    public double InitialLearningRate => MaxLearningRate / DivFactor;
    public double MinLearningRate => InitialLearningRate / FinalDivFactor;

    public double LearningRate(int step)
    {
        ScheduleChecks.Step(step);
        double lastStep = TotalSteps - 1;
        if (step >= lastStep) return MinLearningRate;
        return step <= _peakStep
            ? Anneal(InitialLearningRate, MaxLearningRate, 0, _peakStep, step)
            : Anneal(MaxLearningRate, MinLearningRate, _peakStep, lastStep, step);
    }

    /// <summary>Cosine from <paramref name="start"/> at step <paramref name="from"/> to <paramref name="end"/> at <paramref name="to"/>.</summary>
    private static double Anneal(double start, double end, double from, double to, int step)
    {
        // An empty phase (pctStart·total = 1 puts the peak at step 0) is at its end; PyTorch divides 0 by 0 there.
        double t = to > from ? (step - from) / (to - from) : 1;
        return end + (start - end) / 2 * (Math.Cos(Math.PI * t) + 1);
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"one-cycle {InitialLearningRate:g6} → {MaxLearningRate:g6} → {MinLearningRate:g6} over {TotalSteps} steps, peak at {PctStart:P0}");
}
