using System.Globalization;

namespace OptEq.Autodiff.Optimizers.Schedules;

/// <summary>The same learning rate at every step.</summary>
public sealed class ConstantSchedule : ILearningRateSchedule
{
    public ConstantSchedule(double learningRate) => BaseLearningRate = ScheduleChecks.LearningRate(learningRate, nameof(learningRate));

    public double BaseLearningRate { get; }

    public double LearningRate(int step)
    {
        ScheduleChecks.Step(step);
        return BaseLearningRate;
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"constant {BaseLearningRate:g6}");
}
