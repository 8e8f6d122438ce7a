namespace OptEq.Autodiff.Optimizers.Schedules;

/// <summary>
/// Builds a schedule from a short text (e.g. <c>opteq train --schedule cosine:0.05</c>), through <see cref="ScheduleSpec"/>
/// (the text parsed once, kept in training options). Names are case-insensitive;
/// arguments follow the name, separated by ':', and trailing ones may be left out. All counts are optimizer steps;
/// the base learning rate and the total number of steps come from the caller.
/// <list type="bullet">
/// <item><c>constant</c>: the base rate throughout.</item>
/// <item><c>step:N[:GAMMA]</c>: multiply the rate by GAMMA (default 0.1) every N steps (N ≥ 1); "step:30:0.1" is base for steps 0–29, base/10 for 30–59, ….</item>
/// <item><c>cosine[:WARMUP[:MIN_LR]]</c>: linear warm-up over the fraction WARMUP ∈ [0, 1) of the total steps (default 0),
/// then cosine from the base rate down to the absolute rate MIN_LR (default 0) at the last step.</item>
/// <item><c>one-cycle[:PCT_START[:DIV[:FINAL_DIV]]]</c>: one cycle peaking at the base rate after the fraction PCT_START
/// (default 0.3) of the steps, starting at base/DIV (default 25) and ending at base/DIV/FINAL_DIV (default 1e4).</item>
/// </list>
/// </summary>
public static class LearningRateSchedules
{
    /// <summary>The accepted forms, as listed in errors and help.</summary>
    public static IReadOnlyList<string> Syntax { get; } =
        ["constant", "step:N[:GAMMA]", "cosine[:WARMUP[:MIN_LR]]", "one-cycle[:PCT_START[:DIV[:FINAL_DIV]]]"];

    public static ILearningRateSchedule Parse(string spec, double baseLearningRate, int totalSteps)
        => ScheduleSpec.Parse(spec).Build(baseLearningRate, totalSteps);
}
