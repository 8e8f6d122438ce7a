using System.Globalization;

namespace OptEq.Autodiff.Optimizers.Schedules;

/// <summary>
/// Builds a schedule from a short text (e.g. <c>opteq train --schedule cosine:0.05</c>). Names are case-insensitive;
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
    {
        ArgumentNullException.ThrowIfNull(spec);
        var parts = spec.Trim().Split(':');
        var args = new Arguments(spec, parts);
        var name = parts[0].Trim().ToLowerInvariant();
        try
        {
            return name switch
            {
                "constant" => args.AtMost(0, () => new ConstantSchedule(baseLearningRate)),
                "step" => args.AtMost(2, () => new StepDecaySchedule(baseLearningRate, args.RequiredInt(1, "N"), args.Double(2, "GAMMA", 0.1))),
                "cosine" => args.AtMost(2, () => Cosine(args, baseLearningRate, totalSteps)),
                "one-cycle" => args.AtMost(3, () => new OneCycleSchedule(baseLearningRate, totalSteps,
                    args.Double(1, "PCT_START", 0.3), args.Double(2, "DIV", 25), args.Double(3, "FINAL_DIV", 1e4))),
                _ => throw new ArgumentException($"unknown learning-rate schedule '{spec}'; valid schedules: {string.Join(", ", Syntax)}", nameof(spec)),
            };
        }
        catch (ArgumentOutOfRangeException e)
        {
            // A schedule's own range check (gamma, pctStart, …): say which spec it came from.
            throw new ArgumentException($"schedule '{spec}': {e.Message}", nameof(spec), e);
        }
    }

    private static CosineSchedule Cosine(Arguments args, double baseLearningRate, int totalSteps)
    {
        double warmup = args.Double(1, "WARMUP", 0);
        if (!(warmup >= 0 && warmup < 1))
            throw new ArgumentException($"schedule '{args.Spec}': WARMUP is a fraction of the steps in [0, 1), got {warmup}", "spec");
        return new CosineSchedule(baseLearningRate, totalSteps, args.Double(2, "MIN_LR", 0), (int)(warmup * totalSteps));
    }

    /// <summary>The ':'-separated arguments after the name; errors quote the whole spec and the argument's name.</summary>
    private readonly struct Arguments(string spec, string[] parts)
    {
        public string Spec => spec;

        /// <summary>Checks the argument count first, then builds the schedule.</summary>
        public ILearningRateSchedule AtMost(int count, Func<ILearningRateSchedule> build)
        {
            if (parts.Length - 1 > count)
                throw new ArgumentException($"schedule '{spec}' has {parts.Length - 1} arguments, at most {count} allowed; valid schedules: {string.Join(", ", Syntax)}", "spec");
            return build();
        }

        public int RequiredInt(int index, string name)
        {
            if (index >= parts.Length) throw new ArgumentException($"schedule '{spec}' needs {name}; valid schedules: {string.Join(", ", Syntax)}", "spec");
            return int.TryParse(parts[index].Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value >= 1
                ? value
                : throw new ArgumentException($"schedule '{spec}': {name} must be a whole number ≥ 1, got '{parts[index]}'", "spec");
        }

        public double Double(int index, string name, double fallback)
        {
            if (index >= parts.Length) return fallback;
            return double.TryParse(parts[index].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && double.IsFinite(value)
                ? value
                : throw new ArgumentException($"schedule '{spec}': {name} must be a number, got '{parts[index]}'", "spec");
        }
    }
}
