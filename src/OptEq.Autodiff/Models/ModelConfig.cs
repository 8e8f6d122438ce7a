using System.Text.Json;
using System.Text.Json.Serialization;
using OptEq.Autodiff.Layers;
using OptEq.Kernels.Activations;
using OptEq.Solvers;

namespace OptEq.Autodiff.Models;

/// <summary>
/// Everything needed to rebuild a classifier: stored as JSON in every checkpoint ("opteq.config"), so a checkpoint is
/// self-describing and a checkpoint of another model is a clear error. Validated by <see cref="Validate"/>.
/// </summary>
public sealed record ModelConfig
{
    public static IReadOnlyList<string> Kinds { get; } = ["opteq", "deep-opteq", "idl", "mon", "deq"];

    public string Model { get; init; } = "opteq";
    public int Input { get; init; } = 784;
    public int Classes { get; init; } = 10;
    public int Hidden { get; init; } = 95;
    /// <summary>Tier sizes of deep-opteq.</summary>
    public int[] Tiers { get; init; } = [32, 32, 32];
    public string Activation { get; init; } = "relu";
    public double Gamma { get; init; } = 0.95;
    public string Norm { get; init; } = "frobenius";
    public string Solver { get; init; } = "anderson";
    public int ForwardMaxIterations { get; init; } = 30;
    public double ForwardTolerance { get; init; } = 1e-3;
    public string Backward { get; init; } = "implicit-cg";
    public int BackwardMaxIterations { get; init; } = 30;
    public double BackwardTolerance { get; init; } = 1e-3;
    /// <summary>Input standardisation (pixel − mean)/std applied by the data pipeline, stored so evaluation repeats it.</summary>
    public double InputMean { get; init; }
    public double InputStd { get; init; } = 1;
    public int Seed { get; init; }

    public void Validate()
    {
        if (!Kinds.Contains(Model)) throw new ArgumentException($"unknown model '{Model}'; valid: {string.Join(", ", Kinds)}");
        if (Input < 1 || Classes < 2 || Hidden < 1) throw new ArgumentOutOfRangeException(nameof(Hidden), "input ≥ 1, classes ≥ 2 and hidden ≥ 1 are required");
        if (Model == "deep-opteq" && (Tiers.Length == 0 || Tiers.Any(t => t < 1))) throw new ArgumentException("deep-opteq needs tiers ≥ 1 (e.g. --tiers 32 32 32)");
        if (!(Gamma > 0 && Gamma < 1)) throw new ArgumentOutOfRangeException(nameof(Gamma), Gamma, "γ must lie in (0, 1)");
        _ = ParsedActivation;
        _ = ParsedNorm;
        _ = SolverRegistry.Parse(Solver);
        _ = BackwardOptions.Parse(Backward);
        _ = ForwardOptions;
        _ = AdjointOptions;
        if (!(InputStd > 0)) throw new ArgumentOutOfRangeException(nameof(InputStd), InputStd, "input std must be > 0");
    }

    [JsonIgnore] public Activation ParsedActivation => Kernels.Activations.Activation.Parse(Activation);

    [JsonIgnore]
    public NormKind ParsedNorm => Norm.ToLowerInvariant() switch
    {
        "frobenius" => NormKind.Frobenius,
        "spectral" => NormKind.Spectral,
        _ => throw new ArgumentException($"unknown norm '{Norm}'; valid: frobenius, spectral"),
    };

    [JsonIgnore]
    public SolverOptions ForwardOptions => new()
    {
        Solver = SolverRegistry.Parse(Solver), MaxIterations = ForwardMaxIterations, Tolerance = ForwardTolerance,
        SplittingStep = 1.0, RecordTrace = false, // traces on request only (EquilibriumReport.RecordTrace)
    };

    [JsonIgnore]
    public SolverOptions AdjointOptions => new() { MaxIterations = BackwardMaxIterations, Tolerance = BackwardTolerance, RecordTrace = false };

    [JsonIgnore] public BackwardOptions BackwardOptions => BackwardOptions.Parse(Backward, new BackwardOptions { AdjointOptions = AdjointOptions });

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static ModelConfig FromJson(string json, string source)
    {
        try
        {
            var config = JsonSerializer.Deserialize<ModelConfig>(json, Json) ?? throw new InvalidDataException($"{source}: empty model configuration");
            config.Validate();
            return config;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: the model configuration is not valid JSON ({e.Message})", e);
        }
    }
}
