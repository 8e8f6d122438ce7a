using System.Text.Json;
using System.Text.Json.Serialization;
using OptEq.Autodiff.Validation;
using OptEq.Kernels.Activations;
using OptEq.Solvers;

namespace OptEq.Autodiff.Models;

/// <summary>
/// Everything needed to rebuild a classifier, with typed values parsed once: the model's options as the command line
/// gives them (a <see cref="ModelKind"/> and its widths, activation, solvers…), the data's shape and standardisation,
/// the seed, and the <see cref="Spec"/> those options make. Stored as JSON in every checkpoint ("opteq.config") with
/// the spec, so a checkpoint is self-describing and a checkpoint of another model is a clear error; an unknown key is
/// an error that names it. Validated by <see cref="Validate"/>.
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record ModelConfig
{
    /// <summary>The model kinds' names (those registered now).</summary>
    public static IReadOnlyList<string> Kinds => ModelKind.Registry.Names;

    private readonly ModelSpec? _spec;

    public ModelKind Model { get; init; } = ModelKind.OptEq;
    public int Input { get; init; } = 784;
    public int Classes { get; init; } = 10;
    public int Hidden { get; init; } = 95;
    /// <summary>Tier sizes of deep-opteq.</summary>
    public int[] Tiers { get; init; } = [32, 32, 32];
    /// <summary>Hidden widths of the mlp (one linear layer and activation each, before the head).</summary>
    public int[] Layers { get; init; } = [64, 64, 64];
    /// <summary>Options of the convolutional kinds (conv-opteq, multitier-opteq); null (and not written) for the others.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ConvModelOptions? Conv { get; init; }
    [JsonConverter(typeof(ActivationJsonConverter))]
    public Activation Activation { get; init; } = Activation.ReLU;
    public double Gamma { get; init; } = 0.95;
    [JsonConverter(typeof(NormKindJsonConverter))]
    public NormKind Norm { get; init; } = NormKind.Frobenius;
    [JsonConverter(typeof(ForwardSolverJsonConverter))]
    public IForwardSolver Solver { get; init; } = ForwardSolvers.Anderson;
    public int ForwardMaxIterations { get; init; } = 30;
    public double ForwardTolerance { get; init; } = 1e-3;
    /// <summary>The backward mode with its parameter: implicit-cg, implicit-anderson, jacobian-free, phantom:k, unrolled:k…</summary>
    public BackwardMethod Backward { get; init; } = new(BackwardMode.Implicit, AdjointSolvers.ConjugateGradient);
    public int BackwardMaxIterations { get; init; } = 30;
    public double BackwardTolerance { get; init; } = 1e-3;
    /// <summary>Input standardisation (pixel − mean)/std applied by the data pipeline, stored so evaluation repeats it.</summary>
    public double InputMean { get; init; }
    public double InputStd { get; init; } = 1;
    public int Seed { get; init; }

    /// <summary>
    /// The model's layers. Set explicitly (a composition of one's own, with <see cref="ModelKind.Custom"/>, or as read
    /// from a checkpoint) it is used as is; otherwise <see cref="Model"/>'s recipe makes it from the options above.
    /// Checkpoints written before the spec was stored have none and get the recipe's, which is the same model.
    /// </summary>
    public ModelSpec Spec
    {
        get => _spec ?? new ModelSpec { Input = Input, Layers = Model.Layers(this) };
        init => _spec = value;
    }

    /// <summary>Whether <see cref="Spec"/> was given rather than made by the recipe.</summary>
    [JsonIgnore] public bool HasExplicitSpec => _spec is not null;

    public void Validate()
    {
        if (Input < 1 || Classes < 2 || Hidden < 1) throw new ArgumentOutOfRangeException(nameof(Hidden), "input ≥ 1, classes ≥ 2 and hidden ≥ 1 are required");
        ArgumentNullException.ThrowIfNull(Model);
        ArgumentNullException.ThrowIfNull(Activation);
        ArgumentNullException.ThrowIfNull(Solver);
        if (Model == ModelKind.DeepOptEq && (Tiers is null || Tiers.Length == 0 || Tiers.Any(t => t < 1))) throw new ArgumentException("deep-opteq needs tiers ≥ 1 (e.g. --tiers 32 32 32)");
        if (Model == ModelKind.Mlp && (Layers is null || Layers.Any(t => t < 1))) throw new ArgumentException("mlp needs layer widths ≥ 1 (e.g. --layers 64,64,64)");
        if (Model == ModelKind.Custom && _spec is null) throw new ArgumentException("model 'custom' needs its layers: set the configuration's spec");
        if (!(Gamma > 0 && Gamma < 1)) throw new ArgumentOutOfRangeException(nameof(Gamma), Gamma, "γ must lie in (0, 1)");
        if (!(InputStd > 0)) throw new ArgumentOutOfRangeException(nameof(InputStd), InputStd, "input std must be > 0");
        _ = ForwardOptions;
        _ = AdjointOptions;
        var spec = Spec;
        spec.Validate();
        ModelLimits.Check(spec);
        if (spec.Input != Input) throw new ArgumentException($"the spec takes {spec.Input} inputs; the configuration says {Input}");
        if (spec.Output != Classes) throw new ArgumentException($"the spec gives {spec.Output} outputs; the configuration has {Classes} classes");
    }

    // The solver settings of the recipes' equilibrium layers: recording traces is decided here, once.
    [JsonIgnore]
    public SolverOptions ForwardOptions => new()
    {
        Solver = Solver, MaxIterations = ForwardMaxIterations, Tolerance = ForwardTolerance,
        SplittingStep = 1.0, // traces only on request (EquilibriumReport.RecordTrace)
    };

    [JsonIgnore]
    public SolverOptions AdjointOptions => new() { MaxIterations = BackwardMaxIterations, Tolerance = BackwardTolerance };

    [JsonIgnore] public BackwardOptions BackwardOptions => new() { Method = Backward, AdjointOptions = AdjointOptions };

    /// <summary>The JSON stored in checkpoints, spec included.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, ModelJson.Options);

    /// <summary>
    /// Reads a configuration written by <see cref="ToJson"/>, or by a build before specs were stored (no "spec" key).
    /// Strict: every key must be present and non-null, no unknown key, and the sizes are bounded (<see cref="ModelLimits"/>)
    /// before anything is built. Every problem is an <see cref="InputException"/> naming <paramref name="source"/>.
    /// </summary>
    public static ModelConfig FromJson(string json, string source)
    {
        string Where(string problem) => $"the model configuration (metadata '{Checkpoints.Checkpoint.ConfigKey}') is not valid: {problem}";
        try
        {
            // Nulls first, so the message names the key rather than the serializer's type.
            if (StrictJson.NullValue(json) is string nullKey) throw InputException.Content(source, Where($"'{nullKey}' is null"));
            var config = JsonSerializer.Deserialize<ModelConfig>(json, ModelJson.Options) ?? throw InputException.Content(source, Where("it is null"));
            if (StrictJson.Problem(json, config.ToJson(), optional: ["spec", "layers", "conv", "conv.headTiers", "spec.layers[].headTiers", "conv.gram", "spec.layers[].gram"]) is string problem) throw InputException.Content(source, Where(problem));
            config.Validate();
            return config;
        }
        catch (JsonException e)
        {
            // The serializer's "The JSON property 'x' could not be mapped to any .NET member contained in type 'A.B'" names a C# type.
            var unmapped = System.Text.RegularExpressions.Regex.Match(e.Message, @"^The JSON property '(?<key>[^']*)' could not be mapped.*?type '(?:[\w.]+\.)?(?<type>\w+)'");
            string problem = unmapped.Success ? $"unknown key '{unmapped.Groups["key"].Value}' (in the {unmapped.Groups["type"].Value.Replace("Spec", " layer spec", StringComparison.Ordinal)})" : e.Message;
            throw InputException.Content(source, Where(problem), e);
        }
        catch (ArgumentException e)
        {
            throw InputException.Content(source, Where(PlainMessage(e)), e);
        }
        catch (NotSupportedException e) when (e.Message.Contains("type discriminator", StringComparison.Ordinal))
        {
            // A layer without its "layer" key (or with it misspelt): the serializer cannot tell which layer spec it is.
            throw InputException.Content(source, Where("a layer of 'spec.layers' has no \"layer\" key naming its kind"), e);
        }
        catch (OverflowException e)
        {
            throw InputException.Content(source, Where($"its sizes overflow ({e.Message})"), e);
        }
    }

    /// <summary>An argument exception's message without the " (Parameter 'x')" and "Actual value was" tails, which read like a programming error.</summary>
    internal static string PlainMessage(ArgumentException e)
    {
        string message = e is ArgumentOutOfRangeException range && range.ActualValue is not null
            ? e.Message.Replace($"{Environment.NewLine}Actual value was {range.ActualValue}.", "", StringComparison.Ordinal)
            : e.Message;
        return e.ParamName is null ? message : message.Replace($" (Parameter '{e.ParamName}')", "", StringComparison.Ordinal);
    }

    public bool Equals(ModelConfig? other) => other is not null && ToJson() == other.ToJson();
    public override int GetHashCode() => ToJson().GetHashCode(StringComparison.Ordinal);
}
