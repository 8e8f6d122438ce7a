using System.Text.Json.Serialization;
using OptEq.Autodiff.Layers;
using OptEq.Kernels.Activations;
using OptEq.Solvers;

namespace OptEq.Autodiff.Models;

/// <summary>
/// A model as a composition of layers: the input width and the layers in order, each sized by the one before it. Typed
/// and serialisable (a checkpoint stores it), so a model is rebuilt from it alone. Parameters are drawn layer by layer
/// from one seeded generator, in this order.
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record ModelSpec
{
    /// <summary>Input features (standardised by the data pipeline; see <see cref="ModelConfig.InputMean"/>).</summary>
    public required int Input { get; init; }
    public required IReadOnlyList<LayerSpec> Layers { get; init; }

    /// <summary>The output width (the classes of a classifier).</summary>
    [JsonIgnore]
    public int Output
    {
        get
        {
            int width = Input;
            foreach (var layer in Layers) width = layer.OutputSize(width);
            return width;
        }
    }

    /// <summary>Checks every layer against the width it receives.</summary>
    public void Validate()
    {
        if (Input < 1) throw new ArgumentOutOfRangeException(nameof(Input), Input, "the input width must be ≥ 1");
        if (Layers is null || Layers.Count == 0) throw new ArgumentException("a model needs at least one layer");
        int width = Input;
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var layer in Layers)
        {
            ArgumentNullException.ThrowIfNull(layer);
            layer.Validate(width);
            if (layer.Name is { } name && !names.Add(name)) throw new ArgumentException($"two layers are named '{name}' (names key the parameters)");
            width = layer.OutputSize(width);
        }
    }

    public bool Equals(ModelSpec? other) => other is not null && Input == other.Input && Layers.SequenceEqual(other.Layers);
    public override int GetHashCode() => HashCode.Combine(Input, Layers.Count);
}

/// <summary>One layer of a <see cref="ModelSpec"/>; in JSON, <c>"layer": "&lt;kind&gt;"</c> says which.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "layer", UnknownDerivedTypeHandling = JsonUnknownDerivedTypeHandling.FailSerialization)]
[JsonDerivedType(typeof(LinearSpec), "linear")]
[JsonDerivedType(typeof(ActivationSpec), "activation")]
[JsonDerivedType(typeof(OptEqSpec), "opteq")]
[JsonDerivedType(typeof(DeepOptEqSpec), "deep-opteq")]
[JsonDerivedType(typeof(ImplicitSpec), "idl")]
[JsonDerivedType(typeof(MonotoneSpec), "mon")]
[JsonDerivedType(typeof(DeqSpec), "deq")]
[JsonDerivedType(typeof(ConvOptEqSpec), "conv-opteq")]
[JsonDerivedType(typeof(AvgPool2dSpec), "avgpool2d")]
[JsonDerivedType(typeof(MonotoneConvSpec), "conv-mon")]
[JsonDerivedType(typeof(MultiTierOptEqSpec), "multitier-opteq")]
[JsonDerivedType(typeof(Conv2dSpec), "conv2d")]
public abstract record LayerSpec
{
    /// <summary>The prefix of the layer's parameter names (null for a layer without parameters).</summary>
    public virtual string? Name { get; init; }

    public abstract int OutputSize(int input);

    /// <summary>Checks the spec for an input of <paramref name="input"/> features.</summary>
    public virtual void Validate(int input)
    {
        if (this is not ActivationSpec and not AvgPool2dSpec && string.IsNullOrWhiteSpace(Name)) throw new ArgumentException($"a {GetType().Name} needs a name (it prefixes its parameters)");
    }

    /// <summary>Makes the layer, drawing its initial parameters from <paramref name="rng"/>.</summary>
    public abstract ILayer<T> Build<T>(Device device, int input, Random rng) where T : unmanaged, IFloatingPointIeee754<T>;

    protected static void Positive(int value, string what)
    {
        if (value < 1) throw new ArgumentOutOfRangeException(what, value, $"{what} must be ≥ 1");
    }
}

/// <summary>y = x·Wᵀ + b (parameters name.weight, name.bias).</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record LinearSpec : LayerSpec
{
    public required int Output { get; init; }
    public bool Bias { get; init; } = true;

    public override int OutputSize(int input) => Output;
    public override void Validate(int input) { base.Validate(input); Positive(Output, "linear output"); }
    public override ILayer<T> Build<T>(Device device, int input, Random rng) => new Linear<T>(device, Name!, input, Output, rng, Bias);
}

/// <summary>y = σ(x) elementwise.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record ActivationSpec : LayerSpec
{
    [JsonConverter(typeof(ActivationJsonConverter))]
    public required Activation Activation { get; init; }

    [JsonIgnore] public override string? Name { get => null; init { } }

    public override int OutputSize(int input) => input;
    public override ILayer<T> Build<T>(Device device, int input, Random rng) => new ActivationLayer<T>(Activation);
}

/// <summary>What every equilibrium layer has: its activation and its forward and backward solves.</summary>
public abstract record EquilibriumLayerSpec : LayerSpec
{
    [JsonConverter(typeof(ActivationJsonConverter))]
    public Activation Activation { get; init; } = Activation.ReLU;
    public SolverOptions Forward { get; init; } = new();
    public BackwardOptions Backward { get; init; } = new();
}

/// <summary>An OptEq layer (<see cref="OptEqLayer{T}"/>), hidden width <see cref="Hidden"/>.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record OptEqSpec : EquilibriumLayerSpec
{
    public required int Hidden { get; init; }
    public double Gamma { get; init; } = 0.95;
    [JsonConverter(typeof(NormKindJsonConverter))]
    public NormKind Norm { get; init; } = NormKind.Frobenius;

    public override int OutputSize(int input) => Hidden;
    public override void Validate(int input) { base.Validate(input); Positive(Hidden, "hidden"); OptEqLayerOptions.CheckGamma(Gamma); }
    public override ILayer<T> Build<T>(Device device, int input, Random rng) => new OptEqLayer<T>(device, Name!, new OptEqLayerOptions
    {
        Input = input, Hidden = Hidden, Activation = Activation, Gamma = Gamma, Norm = Norm, Forward = Forward, Backward = Backward,
    }, rng);
}

/// <summary>A deep OptEq layer (<see cref="DeepOptEqLayer{T}"/>); outputs the last tier, or all of them.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record DeepOptEqSpec : EquilibriumLayerSpec
{
    public required int[] Tiers { get; init; }
    public double Gamma { get; init; } = 0.95;
    [JsonConverter(typeof(NormKindJsonConverter))]
    public NormKind Norm { get; init; } = NormKind.Frobenius;
    public bool OutputAllTiers { get; init; }

    public override int OutputSize(int input) => OutputAllTiers ? Tiers.Sum() : Tiers[^1];
    public override void Validate(int input)
    {
        base.Validate(input);
        if (Tiers is null || Tiers.Length == 0 || Tiers.Any(t => t < 1)) throw new ArgumentException("deep-opteq needs tiers ≥ 1 (e.g. --tiers 32 32 32)");
        OptEqLayerOptions.CheckGamma(Gamma);
    }
    public override ILayer<T> Build<T>(Device device, int input, Random rng)
        => new DeepOptEqLayer<T>(device, Name!, input, Tiers, rng, Activation, Gamma, Norm, OutputAllTiers, Forward, Backward);

    public bool Equals(DeepOptEqSpec? other) => other is not null && base.Equals(other) && Tiers.SequenceEqual(other.Tiers)
        && Gamma == other.Gamma && Norm == other.Norm && OutputAllTiers == other.OutputAllTiers;
    public override int GetHashCode() => HashCode.Combine(base.GetHashCode(), Tiers.Length, Gamma);
}

/// <summary>An implicit model x = φ(Ax + Bu + b), ŷ = Cx + Du + e (<see cref="ImplicitLayer{T}"/>), with ||A||∞ ≤ κ.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record ImplicitSpec : EquilibriumLayerSpec
{
    public required int Hidden { get; init; }
    public required int Output { get; init; }
    public double Kappa { get; init; } = 0.95;

    public override int OutputSize(int input) => Output;
    public override void Validate(int input)
    {
        base.Validate(input); Positive(Hidden, "hidden"); Positive(Output, "output");
        if (!(Kappa > 0 && Kappa < 1)) throw new ArgumentOutOfRangeException(nameof(Kappa), Kappa, "κ must lie in (0, 1)");
    }
    public override ILayer<T> Build<T>(Device device, int input, Random rng)
        => new ImplicitLayer<T>(device, Name!, input, Hidden, Output, rng, Activation, Kappa, Forward, Backward);
}

/// <summary>A monotone operator equilibrium layer (<see cref="MonotoneLayer{T}"/>) with monotonicity margin m.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record MonotoneSpec : EquilibriumLayerSpec
{
    public required int Hidden { get; init; }
    public double Margin { get; init; } = 1.0;

    public override int OutputSize(int input) => Hidden;
    public override void Validate(int input)
    {
        base.Validate(input); Positive(Hidden, "hidden");
        if (!(Margin > 0)) throw new ArgumentOutOfRangeException(nameof(Margin), Margin, "the monotonicity margin m must be > 0");
    }
    public override ILayer<T> Build<T>(Device device, int input, Random rng)
        => new MonotoneLayer<T>(device, Name!, input, Hidden, rng, Activation, Margin, Forward, Backward);
}

/// <summary>The built-in generic DEQ T(z, x) = σ(z·Wᵀ + x·Uᵀ + b), ||W||_F = γ (<see cref="DeqLayer{T}.Affine"/>).</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record DeqSpec : EquilibriumLayerSpec
{
    public required int Hidden { get; init; }
    public double Gamma { get; init; } = 0.95;

    public override int OutputSize(int input) => Hidden;
    public override void Validate(int input) { base.Validate(input); Positive(Hidden, "hidden"); OptEqLayerOptions.CheckGamma(Gamma); }
    public override ILayer<T> Build<T>(Device device, int input, Random rng)
        => DeqLayer<T>.Affine(device, Name!, input, Hidden, rng, Activation, Gamma, Forward, Backward);
}
