using System.Globalization;

namespace OptEq.Autodiff.Optimizers.Schedules;

/// <summary>
/// Step decay (PyTorch's StepLR, counted in optimizer steps): lr = base · γ^⌊step / every⌋, so steps 0 … every−1 use
/// the base rate, the next <c>every</c> steps base·γ, and so on.
/// </summary>
public sealed class StepDecaySchedule : ILearningRateSchedule
{
    public StepDecaySchedule(double baseLearningRate, int every, double gamma = 0.1)
    {
        BaseLearningRate = ScheduleChecks.LearningRate(baseLearningRate, nameof(baseLearningRate));
        Every = every >= 1 ? every : throw new ArgumentOutOfRangeException(nameof(every), every, "every (steps between decays) must be ≥ 1");
        Gamma = gamma > 0 && double.IsFinite(gamma) ? gamma : throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "gamma must be finite and > 0");
    }

    public double BaseLearningRate { get; }
    public int Every { get; }
    public double Gamma { get; }

    public double LearningRate(int step)
    {
        ScheduleChecks.Step(step);
        return BaseLearningRate * Math.Pow(Gamma, step / Every);
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"step decay {BaseLearningRate:g6} ×{Gamma:g6} every {Every} steps");
}
