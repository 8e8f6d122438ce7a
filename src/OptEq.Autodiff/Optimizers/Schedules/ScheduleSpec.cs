using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace OptEq.Autodiff.Optimizers.Schedules;

/// <summary>The learning-rate schedules a <see cref="ScheduleSpec"/> names.</summary>
public enum ScheduleKind { Constant, Step, Cosine, OneCycle }

/// <summary>
/// A learning-rate schedule as configured: its kind and arguments, parsed and checked once from the text form of
/// <see cref="LearningRateSchedules"/> (e.g. <c>cosine:0.05</c>), written back as that text in JSON. What depends on the
/// run (the base rate, the total number of steps) comes in <see cref="Build"/>.
/// </summary>
[JsonConverter(typeof(ScheduleSpecJsonConverter))]
public sealed record ScheduleSpec
{
    private readonly double[] _arguments;

    private ScheduleSpec(ScheduleKind kind, string text, double[] arguments) => (Kind, Text, _arguments) = (kind, text, arguments);

    /// <summary>PyTorch's one-cycle with its defaults: the default of <c>opteq train</c>.</summary>
    public static ScheduleSpec OneCycle { get; } = Parse("one-cycle");

    public ScheduleKind Kind { get; }
    /// <summary>The text it was parsed from.</summary>
    public string Text { get; }
    /// <summary>The arguments with defaults filled in: step N, GAMMA; cosine WARMUP, MIN_LR; one-cycle PCT_START, DIV, FINAL_DIV; constant none.</summary>
    public IReadOnlyList<double> Arguments => _arguments;

    /// <summary>Parses and checks a schedule text; errors quote it and list the valid forms.</summary>
    public static ScheduleSpec Parse(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var parts = spec.Trim().Split(':');
        var args = new ArgumentReader(spec, parts);
        return parts[0].Trim().ToLowerInvariant() switch
        {
            "constant" => args.AtMost(0, () => new ScheduleSpec(ScheduleKind.Constant, spec, [])),
            "step" => args.AtMost(2, () => new ScheduleSpec(ScheduleKind.Step, spec, [args.RequiredInt(1, "N"), args.Double(2, "GAMMA", 0.1)])),
            "cosine" => args.AtMost(2, () =>
            {
                double warmup = args.Double(1, "WARMUP", 0);
                if (!(warmup >= 0 && warmup < 1))
                    throw new ArgumentException($"schedule '{spec}': WARMUP is a fraction of the steps in [0, 1), got {warmup}", nameof(spec));
                return new ScheduleSpec(ScheduleKind.Cosine, spec, [warmup, args.Double(2, "MIN_LR", 0)]);
            }),
            "one-cycle" => args.AtMost(3, () => new ScheduleSpec(ScheduleKind.OneCycle, spec,
                [args.Double(1, "PCT_START", 0.3), args.Double(2, "DIV", 25), args.Double(3, "FINAL_DIV", 1e4)])),
            _ => throw new ArgumentException($"unknown learning-rate schedule '{spec}'; valid schedules: {string.Join(", ", LearningRateSchedules.Syntax)}", nameof(spec)),
        };
    }

    /// <summary>The schedule for a run of <paramref name="totalSteps"/> optimizer steps peaking at (or starting from) <paramref name="baseLearningRate"/>.</summary>
    public ILearningRateSchedule Build(double baseLearningRate, int totalSteps)
    {
        var a = _arguments;
        try
        {
            return Kind switch
            {
                ScheduleKind.Constant => new ConstantSchedule(baseLearningRate),
                ScheduleKind.Step => new StepDecaySchedule(baseLearningRate, (int)a[0], a[1]),
                ScheduleKind.Cosine => new CosineSchedule(baseLearningRate, totalSteps, a[1], (int)(a[0] * totalSteps)),
                _ => new OneCycleSchedule(baseLearningRate, totalSteps, a[0], a[1], a[2]),
            };
        }
        catch (ArgumentOutOfRangeException e)
        {
            // A schedule's own range check (gamma, pctStart, …): say which spec it came from.
            throw new ArgumentException($"schedule '{Text}': {e.Message}", "spec", e);
        }
    }

    public bool Equals(ScheduleSpec? other) => other is not null && Kind == other.Kind && _arguments.AsSpan().SequenceEqual(other._arguments);

    public override int GetHashCode() => HashCode.Combine(Kind, _arguments.Length == 0 ? 0 : _arguments[0]);

    public override string ToString() => Text;

    /// <summary>The ':'-separated arguments after the name; errors quote the whole spec and the argument's name.</summary>
    private readonly struct ArgumentReader(string spec, string[] parts)
    {
        /// <summary>Checks the argument count first, then reads them.</summary>
        public ScheduleSpec AtMost(int count, Func<ScheduleSpec> read)
        {
            if (parts.Length - 1 > count)
                throw new ArgumentException($"schedule '{spec}' has {parts.Length - 1} arguments, at most {count} allowed; valid schedules: {string.Join(", ", LearningRateSchedules.Syntax)}", "spec");
            return read();
        }

        public int RequiredInt(int index, string name)
        {
            if (index >= parts.Length) throw new ArgumentException($"schedule '{spec}' needs {name}; valid schedules: {string.Join(", ", LearningRateSchedules.Syntax)}", "spec");
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

/// <summary>Reads and writes a <see cref="ScheduleSpec"/> as its text.</summary>
public sealed class ScheduleSpecJsonConverter : JsonConverter<ScheduleSpec>
{
    public override ScheduleSpec Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String) throw new JsonException($"a schedule is a text ({string.Join(", ", LearningRateSchedules.Syntax)})");
        try { return ScheduleSpec.Parse(reader.GetString()!); }
        catch (ArgumentException e) { throw new JsonException(e.Message, e); }
    }

    public override void Write(Utf8JsonWriter writer, ScheduleSpec value, JsonSerializerOptions options) => writer.WriteStringValue(value.Text);
}
