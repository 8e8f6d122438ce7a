using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace OptEq.Solvers;

/// <summary>Which residual the tolerance applies to: abs = ||T(z) − z||, rel = abs / ||T(z)||.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<StopCriterion>))]
public enum StopCriterion
{
    [JsonStringEnumMemberName("absolute")] Absolute,
    [JsonStringEnumMemberName("relative")] Relative,
}

/// <summary>
/// Options of a forward or adjoint solve. Every value is checked when it is set, so an invalid option is an error
/// where it is written, never a silent surprise inside a solve. Options a solver does not use are ignored by design
/// (one record serves all solvers). In JSON the solver is its registered name; an unknown key is an error.
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record SolverOptions
{
    private readonly int _maxIterations = 50;
    private readonly double _tolerance = 1e-4;
    private readonly int _checkEvery = 5;
    private readonly double _divergenceFactor = 1e6;
    private readonly double _damping = 1.0;
    private readonly int _memory = 5;
    private readonly int _broydenRank = 30;
    private readonly double _ridge = 1e-4;
    private readonly double _mixing = 1.0;
    private readonly double _splittingStep = 1.0;
    private readonly double _priorStrength = 1.0;

    /// <summary>The forward solver (see <see cref="SolverRegistry.Forward"/>); ignored by adjoint solves, whose solver is their own.</summary>
    [JsonConverter(typeof(ForwardSolverJsonConverter))]
    public IForwardSolver Solver { get; init; } = ForwardSolvers.Anderson;

    /// <summary>Map evaluations at most (≥ 1).</summary>
    public int MaxIterations { get => _maxIterations; init => _maxIterations = Check(value, value >= 1, "max iterations must be ≥ 1"); }

    /// <summary>Stop a sample once its residual (see <see cref="Stop"/>) is at most this (≥ 0; 0 runs to MaxIterations).</summary>
    public double Tolerance { get => _tolerance; init => _tolerance = Check(value, value >= 0 && double.IsFinite(value), "tolerance must be finite and ≥ 0"); }

    public StopCriterion Stop { get; init; } = StopCriterion.Relative;

    /// <summary>The host reads the convergence flags every this many iterations (≥ 1), never per iteration unless 1.</summary>
    public int CheckEvery { get => _checkEvery; init => _checkEvery = Check(value, value >= 1, "check-every must be ≥ 1"); }

    /// <summary>
    /// Keep per-iteration, per-sample residual traces (off unless asked: reading them back allocates). A diagnostic of a
    /// run, not part of a model: not stored in JSON.
    /// </summary>
    [JsonIgnore]
    public bool RecordTrace { get; init; }

    /// <summary>A sample diverges when its residual exceeds this multiple of its lowest residual (&gt; 1).</summary>
    public double DivergenceFactor { get => _divergenceFactor; init => _divergenceFactor = Check(value, value > 1, "divergence factor must be > 1"); }

    /// <summary>Krasnosel'skii–Mann damping τ in (0, 1] for Picard: z ← (1 − τ)z + τT(z).</summary>
    public double Damping { get => _damping; init => _damping = Check(value, value > 0 && value <= 1, "damping τ must lie in (0, 1]"); }

    /// <summary>Anderson memory m (≥ 1, at most 63 for the small per-sample solve).</summary>
    public int Memory { get => _memory; init => _memory = Check(value, value >= 1 && value < 64, "memory m must be in [1, 63]"); }

    /// <summary>Limited-memory Broyden's rank bound (≥ 1): rank-one terms kept before the estimate restarts from −I.</summary>
    public int BroydenRank { get => _broydenRank; init => _broydenRank = Check(value, value >= 1, "Broyden rank must be ≥ 1"); }

    /// <summary>Anderson ridge λ (≥ 0), relative to the mean diagonal of the residual Gram matrix.</summary>
    public double Ridge { get => _ridge; init => _ridge = Check(value, value >= 0 && double.IsFinite(value), "ridge λ must be finite and ≥ 0"); }

    /// <summary>Anderson mixing β in (0, 1].</summary>
    public double Mixing { get => _mixing; init => _mixing = Check(value, value > 0 && value <= 1, "mixing β must lie in (0, 1]"); }

    /// <summary>Splitting step α &gt; 0 for forward–backward and Peaceman–Rachford.</summary>
    public double SplittingStep { get => _splittingStep; init => _splittingStep = Check(value, value > 0 && double.IsFinite(value), "splitting step α must be finite and > 0"); }

    /// <summary>Hybrid steepest descent's μ ≥ 0 (the prior's weight).</summary>
    public double PriorStrength { get => _priorStrength; init => _priorStrength = Check(value, value >= 0 && double.IsFinite(value), "prior strength μ must be finite and ≥ 0"); }

    private static TValue Check<TValue>(TValue value, bool ok, string message)
        => ok ? value : throw new ArgumentOutOfRangeException(nameof(value), value, message);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Solver.Name} (max {MaxIterations}, {Stop.ToString().ToLowerInvariant()} tol {Tolerance:g3}, m {Memory})");
}

/// <summary>A forward solver in JSON: its registered name.</summary>
public sealed class ForwardSolverJsonConverter : JsonConverter<IForwardSolver>
{
    public override IForwardSolver Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        => SolverRegistry.Forward[reader.GetString() ?? throw new JsonException("a forward solver name must be a string")];

    public override void Write(Utf8JsonWriter writer, IForwardSolver value, JsonSerializerOptions options) => writer.WriteStringValue(value.Name);
}

/// <summary>An adjoint solver in JSON: its registered name.</summary>
public sealed class AdjointSolverJsonConverter : JsonConverter<IAdjointSolver>
{
    public override IAdjointSolver Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        => SolverRegistry.Adjoint[reader.GetString() ?? throw new JsonException("an adjoint solver name must be a string")];

    public override void Write(Utf8JsonWriter writer, IAdjointSolver value, JsonSerializerOptions options) => writer.WriteStringValue(value.Name);
}
