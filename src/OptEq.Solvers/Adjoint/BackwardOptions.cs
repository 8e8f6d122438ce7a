using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace OptEq.Solvers;

/// <summary>How an implicit layer differentiates through its equilibrium.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<BackwardMode>))]
public enum BackwardMode
{
    /// <summary>Exact: the implicit function theorem, w = (∂T/∂z)ᵀw + g solved by an adjoint solver.</summary>
    [JsonStringEnumMemberName("implicit")] Implicit,
    /// <summary>Jacobian-free ("1-step"): w = g. Cheap, not exact.</summary>
    [JsonStringEnumMemberName("jacobian-free")] JacobianFree,
    /// <summary>Phantom gradient: k damped steps w ← λ((∂T/∂z)ᵀw + g) + (1 − λ)w from w = g. Not exact.</summary>
    [JsonStringEnumMemberName("phantom")] Phantom,
    /// <summary>No solver: k steps of T from z = 0 recorded on the tape (a weight-tied k-layer network); exact for that
    /// function, and equal to the implicit gradient as k grows and the unrolled iterate converges.</summary>
    [JsonStringEnumMemberName("unrolled")] Unrolled,
}

/// <summary>
/// A backward mode with its parameter, as it is named: "implicit-cg" (implicit with an adjoint solver), "jacobian-free",
/// "phantom:5", "unrolled:10". Parsed once through <see cref="SolverRegistry"/>; in JSON it is that name.
/// </summary>
[JsonConverter(typeof(BackwardMethodJsonConverter))]
public readonly record struct BackwardMethod
{
    public BackwardMethod(BackwardMode mode, IAdjointSolver? adjoint = null, int steps = 5)
    {
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, "backward steps k must be ≥ 1");
        Mode = mode;
        _adjoint = adjoint ?? AdjointSolvers.Anderson;
        _steps = steps;
    }

    private readonly IAdjointSolver? _adjoint;
    private readonly int _steps;

    public BackwardMode Mode { get; }
    /// <summary>The adjoint solver of <see cref="BackwardMode.Implicit"/> (Anderson unless given).</summary>
    public IAdjointSolver Adjoint => _adjoint ?? AdjointSolvers.Anderson;
    /// <summary>k of <see cref="BackwardMode.Phantom"/> and <see cref="BackwardMode.Unrolled"/> (5 unless given).</summary>
    public int Steps => _steps == 0 ? 5 : _steps;

    /// <summary>The forms the parser reads (the adjoint solvers and backward modes registered now).</summary>
    public static IReadOnlyList<string> ValidNames =>
        [.. SolverRegistry.Backward.Names.SelectMany(n => SolverRegistry.Backward[n] switch
        {
            BackwardMode.Implicit => SolverRegistry.Adjoint.Names.Select(a => "implicit-" + a).Prepend("implicit"),
            BackwardMode.Phantom or BackwardMode.Unrolled => [n + "[:k]"],
            _ => [n],
        })];

    /// <summary>
    /// Reads "implicit", "implicit-&lt;adjoint solver&gt;", "jacobian-free", "phantom[:k]", "unrolled[:k]"; an unknown name
    /// lists the valid ones. Plain "implicit" takes the adjoint solver, and a missing k the steps, of <paramref name="defaults"/>.
    /// </summary>
    public static BackwardMethod Parse(string text, BackwardMethod? defaults = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        var d = defaults ?? new BackwardMethod(BackwardMode.Implicit);
        var parts = text.Trim().ToLowerInvariant().Split(':', 2);
        int? k = null;
        if (parts.Length == 2)
            k = int.TryParse(parts[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) ? v
                : throw new ArgumentException($"backward mode '{text}': '{parts[1]}' is not an integer");
        string Unknown() => $"unknown backward mode '{text}'; valid: {string.Join(", ", ValidNames)}";
        if (parts[0].StartsWith("implicit-", StringComparison.Ordinal) && !SolverRegistry.Backward.Contains(parts[0]))
        {
            if (k is not null || !SolverRegistry.Adjoint.TryGet(parts[0]["implicit-".Length..], out var adjoint)) throw new ArgumentException(Unknown());
            return new BackwardMethod(BackwardMode.Implicit, adjoint, d.Steps);
        }
        if (!SolverRegistry.Backward.TryGet(parts[0], out var mode)) throw new ArgumentException(Unknown());
        if (k is not null && mode is not (BackwardMode.Phantom or BackwardMode.Unrolled))
            throw new ArgumentException($"backward mode '{parts[0]}' takes no parameter (only phantom:k and unrolled:k do)");
        return new BackwardMethod(mode, d.Adjoint, k ?? d.Steps);
    }

    public override string ToString() => Mode switch
    {
        BackwardMode.Implicit => "implicit-" + Adjoint.Name,
        BackwardMode.JacobianFree => "jacobian-free",
        BackwardMode.Phantom => string.Create(CultureInfo.InvariantCulture, $"phantom:{Steps}"),
        _ => string.Create(CultureInfo.InvariantCulture, $"unrolled:{Steps}"),
    };
}

/// <summary>A <see cref="BackwardMethod"/> in JSON: its name ("implicit-cg", "phantom:5").</summary>
public sealed class BackwardMethodJsonConverter : JsonConverter<BackwardMethod>
{
    public override BackwardMethod Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        => BackwardMethod.Parse(reader.GetString() ?? throw new JsonException("a backward mode must be a string"));

    public override void Write(Utf8JsonWriter writer, BackwardMethod value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());
}

/// <summary>Backward options of an implicit layer, validated when built; an unknown JSON key is an error.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record BackwardOptions
{
    private readonly int _steps = 5;
    private readonly double _damping = 0.5;

    public BackwardMode Mode { get; init; } = BackwardMode.Implicit;
    /// <summary>Adjoint solver for <see cref="BackwardMode.Implicit"/>; one that requires structure (CG: a symmetric
    /// map) serves only layers whose map has it (see <see cref="For"/>).</summary>
    [JsonConverter(typeof(AdjointSolverJsonConverter))]
    public IAdjointSolver Adjoint { get; init; } = AdjointSolvers.Anderson;
    public SolverOptions AdjointOptions { get; init; } = new() { MaxIterations = 50, Tolerance = 1e-4 };
    /// <summary>k for phantom and unrolled modes (≥ 1).</summary>
    public int Steps { get => _steps; init => _steps = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(Steps), value, "backward steps k must be ≥ 1"); }
    /// <summary>λ in (0, 1] for the phantom gradient.</summary>
    public double Damping { get => _damping; init => _damping = value > 0 && value <= 1 ? value : throw new ArgumentOutOfRangeException(nameof(Damping), value, "phantom damping λ must lie in (0, 1]"); }

    /// <summary>Exact modes: implicit, and unrolled (exact for its own k-step function).</summary>
    [JsonIgnore] public bool IsExact => Mode is BackwardMode.Implicit or BackwardMode.Unrolled;

    /// <summary>The mode with its parameter (mode, adjoint solver, steps).</summary>
    [JsonIgnore]
    public BackwardMethod Method
    {
        get => new(Mode, Adjoint, Steps);
        init { Mode = value.Mode; Adjoint = value.Adjoint; Steps = value.Steps; }
    }

    public static IReadOnlyList<string> ValidNames => BackwardMethod.ValidNames;

    /// <summary>Parses "implicit", "implicit-cg", "jacobian-free", "phantom:5", "unrolled:10", … (an unknown name lists the valid ones).</summary>
    public static BackwardOptions Parse(string text, BackwardOptions? defaults = null)
    {
        var d = defaults ?? new BackwardOptions();
        return d with { Method = BackwardMethod.Parse(text, d.Method) };
    }

    /// <summary>
    /// These options for a map that offers <paramref name="available"/>: an adjoint solver that requires more (CG on a
    /// map that is not symmetric) is replaced by the default <see cref="AdjointSolvers.Anderson"/>, which needs nothing.
    /// </summary>
    public BackwardOptions For(AdjointStructure available)
        => (Adjoint.Requires & ~available) == 0 ? this : this with { Adjoint = AdjointSolvers.Anderson };

    public override string ToString() => Method.ToString();
}
