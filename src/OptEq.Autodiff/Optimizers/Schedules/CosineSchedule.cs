using System.Globalization;

namespace OptEq.Autodiff.Optimizers.Schedules;

/// <summary>
/// Cosine annealing from a base rate to a minimum over <c>totalSteps</c>, after an optional linear warm-up of W steps:
/// <list type="bullet">
/// <item>step s &lt; W: base·(s + 1)/(W + 1), rising linearly (never 0, so no update is wasted);</item>
/// <item>W ≤ s ≤ total: min + (base − min)·(1 + cos(π·(s − W)/(total − W)))/2, so step W is the peak (base) and step
/// total is min (as PyTorch's CosineAnnealingLR with T_max = total: the last of total steps, s = total − 1, is just above min);</item>
/// <item>s &gt; total: min.</item>
/// </list>
/// </summary>
public sealed class CosineSchedule : ILearningRateSchedule
{
    public CosineSchedule(double baseLearningRate, int totalSteps, double minLearningRate = 0, int warmupSteps = 0)
    {
        BaseLearningRate = ScheduleChecks.LearningRate(baseLearningRate, nameof(baseLearningRate));
        TotalSteps = ScheduleChecks.TotalSteps(totalSteps, nameof(totalSteps));
        MinLearningRate = ScheduleChecks.LearningRate(minLearningRate, nameof(minLearningRate));
        if (MinLearningRate > BaseLearningRate)
            throw new ArgumentOutOfRangeException(nameof(minLearningRate), minLearningRate, $"minLearningRate must not exceed the base rate {baseLearningRate}");
        WarmupSteps = warmupSteps >= 0 && warmupSteps < totalSteps
            ? warmupSteps
            : throw new ArgumentOutOfRangeException(nameof(warmupSteps), warmupSteps, $"warmupSteps must be in [0, totalSteps = {totalSteps})");
    }

    public double BaseLearningRate { get; }
    public int TotalSteps { get; }
    public double MinLearningRate { get; }
    public int WarmupSteps { get; }

    public double LearningRate(int step)
    {
        ScheduleChecks.Step(step);
        if (step < WarmupSteps) return BaseLearningRate * (step + 1) / (WarmupSteps + 1);
        if (step >= TotalSteps) return MinLearningRate;
        double progress = (double)(step - WarmupSteps) / (TotalSteps - WarmupSteps);
        return MinLearningRate + (BaseLearningRate - MinLearningRate) * (1 + Math.Cos(Math.PI * progress)) / 2;
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"cosine {BaseLearningRate:g6} → {MinLearningRate:g6} over {TotalSteps} steps, warm-up {WarmupSteps}");
}
