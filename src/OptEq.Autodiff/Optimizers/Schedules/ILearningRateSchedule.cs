namespace OptEq.Autodiff.Optimizers.Schedules;

/// <summary>
/// A learning rate as a function of the optimizer's step count. <c>LearningRate(step)</c> is the rate of the update that
/// follows <c>step</c> updates already taken: step 0 is the first update (see <see cref="Optimizer{T}.Step(ILearningRateSchedule)"/>).
/// Pure functions of the step, so resuming from a checkpoint's step count gives the same rates.
/// </summary>
public interface ILearningRateSchedule
{
    double LearningRate(int step);
}

internal static class ScheduleChecks
{
    public static void Step(int step)
    {
        if (step < 0) throw new ArgumentOutOfRangeException(nameof(step), step, "step must be ≥ 0");
    }

    public static double LearningRate(double value, string name)
        => value >= 0 && double.IsFinite(value) ? value : throw new ArgumentOutOfRangeException(name, value, $"{name} must be finite and ≥ 0");

    public static int TotalSteps(int value, string name)
        => value >= 1 ? value : throw new ArgumentOutOfRangeException(name, value, $"{name} must be ≥ 1");
}
