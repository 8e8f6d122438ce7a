using System.Text.Json;
using System.Text.Json.Serialization;
using OptEq.Solvers;

namespace OptEq.Autodiff.Models;

/// <summary>
/// A kind of model, as <c>--model</c> names it: a recipe that turns a <see cref="ModelConfig"/>'s options into the
/// layers of a <see cref="ModelSpec"/>. Each kind is its recipe, so a new kind is one more entry, not a branch. In JSON
/// it is its name. <see cref="Custom"/> has no recipe: its layers are the configuration's explicit spec.
/// </summary>
[JsonConverter(typeof(ModelKindJsonConverter))]
public sealed class ModelKind
{
    private readonly Func<ModelConfig, IReadOnlyList<LayerSpec>>? _recipe;

    public ModelKind(string name, string description, Func<ModelConfig, IReadOnlyList<LayerSpec>>? recipe)
    {
        Name = name;
        Description = description;
        _recipe = recipe;
    }

    public string Name { get; }
    public string Description { get; }

    /// <summary>The layers of this kind for the configuration's options.</summary>
    public IReadOnlyList<LayerSpec> Layers(ModelConfig config)
        => _recipe is null ? throw new ArgumentException($"model '{Name}' has no recipe: give its layers as the configuration's spec") : _recipe(config);

    public override string ToString() => Name;

    public static ModelKind OptEq { get; } = new("opteq", "an OptEq layer and a linear head", ModelRecipes.OptEq);
    public static ModelKind DeepOptEq { get; } = new("deep-opteq", "a deep OptEq layer (tiers) and a linear head", ModelRecipes.DeepOptEq);
    public static ModelKind Idl { get; } = new("idl", "one implicit model ŷ = Cx + Du", ModelRecipes.Idl);
    public static ModelKind Mon { get; } = new("mon", "a monotone equilibrium layer and a linear head", ModelRecipes.Mon);
    public static ModelKind Deq { get; } = new("deq", "a generic DEQ layer written with tape ops and a linear head", ModelRecipes.Deq);
    public static ModelKind Mlp { get; } = new("mlp", "an explicit multilayer perceptron: linear + activation per --layers width, then a linear head", ModelRecipes.Mlp);
    public static ModelKind ConvOptEq { get; } = new("conv-opteq", "a convolutional OptEq layer (W a convolution), average pooling and a linear head", ModelRecipes.ConvOptEq);
    public static ModelKind ConvMon { get; } = new("conv-mon", "the monotone operator network's single-convolution layer (W = (1 − m)I − AᵀA + B − Bᵀ with convolutions A, B), average pooling and a linear head", ModelRecipes.ConvMon);
    public static ModelKind MultiTierOptEq { get; } = new("multitier-opteq", "a multi-tier OptEq layer (W block-bidiagonal: convolutions on the diagonal, stride-2 convolutions below), average pooling of the last tier and a linear head", ModelRecipes.MultiTierOptEq);
    public static ModelKind Cnn { get; } = new("cnn", "a feedforward convolutional network: per --channels entry a convolution (same padding; the first with --injection-stride), the activation and average pooling (--pool), then a linear head", ModelRecipes.Cnn);
    public static ModelKind Custom { get; } = new("custom", "the layers of an explicit spec", null);

    /// <summary>Model kinds by name; a user's kind registered here is usable wherever a built-in one is.</summary>
    public static Registry<ModelKind> Registry { get; } = Create();

    private static Registry<ModelKind> Create()
    {
        var registry = new Registry<ModelKind>("model", ReferenceEqualityComparer.Instance);
        foreach (var kind in new[] { OptEq, DeepOptEq, Idl, Mon, Deq, Mlp, ConvOptEq, ConvMon, MultiTierOptEq, Cnn, Custom }) registry.Register(kind.Name, kind);
        return registry;
    }

    public static ModelKind Parse(string name) => Registry[name];
}

public sealed class ModelKindJsonConverter : JsonConverter<ModelKind>
{
    public override ModelKind Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        => ModelKind.Parse(reader.GetString() ?? throw new JsonException("a model kind must be a string"));

    public override void Write(Utf8JsonWriter writer, ModelKind value, JsonSerializerOptions options) => writer.WriteStringValue(value.Name);
}

/// <summary>The built-in recipes: CLI options → layers. Parameter names and the order of random draws key checkpoints and seeds.</summary>
internal static class ModelRecipes
{
    private static LinearSpec Head(ModelConfig c) => new() { Name = "head", Output = c.Classes };

    public static IReadOnlyList<LayerSpec> OptEq(ModelConfig c) =>
    [
        new OptEqSpec
        {
            Name = "opteq", Hidden = c.Hidden, Activation = c.Activation, Gamma = c.Gamma, Norm = c.Norm,
            Forward = c.ForwardOptions, Backward = c.BackwardOptions.For(AdjointStructure.Symmetric),
        },
        Head(c),
    ];

    public static IReadOnlyList<LayerSpec> DeepOptEq(ModelConfig c) =>
    [
        new DeepOptEqSpec
        {
            Name = "deep", Tiers = c.Tiers, Activation = c.Activation, Gamma = c.Gamma, Norm = c.Norm,
            Forward = c.ForwardOptions, Backward = c.BackwardOptions.For(AdjointStructure.Symmetric),
        },
        Head(c),
    ];

    // γ is κ for idl and 1 − m for mon; their maps are not symmetric, so a CG request runs Anderson.
    public static IReadOnlyList<LayerSpec> Idl(ModelConfig c) =>
    [
        new ImplicitSpec
        {
            Name = "idl", Hidden = c.Hidden, Output = c.Classes, Activation = c.Activation, Kappa = c.Gamma,
            Forward = c.ForwardOptions, Backward = c.BackwardOptions.For(AdjointStructure.None),
        },
    ];

    public static IReadOnlyList<LayerSpec> Mon(ModelConfig c) =>
    [
        new MonotoneSpec
        {
            Name = "mon", Hidden = c.Hidden, Activation = c.Activation, Margin = 1 - c.Gamma,
            Forward = c.ForwardOptions, Backward = c.BackwardOptions.For(AdjointStructure.None),
        },
        Head(c),
    ];

    // conv-mon reads the convolutional options (--channels with one count, --kernel-size, --padding, --injection-stride,
    // --pool, --image-channels); its margin is the paper's m = 1 (not 1 − γ as for mon); pooling is inside the layer.
    public static IReadOnlyList<LayerSpec> ConvMon(ModelConfig c)
    {
        var o = ConvOf(c);
        if (o.Channels.Length != 1) throw new ArgumentException($"conv-mon has one hidden state: give one channel count (--channels), not {o.Channels.Length}");
        OnlyConvOptEqHasAGram(o, "conv-mon");
        return
        [
            new MonotoneConvSpec
            {
                Name = "mon", Channels = o.Channels[0], InputChannels = o.ImageChannels, KernelSize = o.KernelSize, Padding = o.Padding,
                InjectionStride = o.InjectionStride, Pool = o.Pool, Activation = c.Activation,
                Forward = c.ForwardOptions, Backward = c.BackwardOptions.For(AdjointStructure.None),
            },
            Head(c),
        ];
    }

    public static IReadOnlyList<LayerSpec> Deq(ModelConfig c) =>
    [
        new DeqSpec
        {
            Name = "deq", Hidden = c.Hidden, Activation = c.Activation, Gamma = c.Gamma,
            Forward = c.ForwardOptions, Backward = c.BackwardOptions.For(AdjointStructure.None),
        },
        Head(c),
    ];

    public static IReadOnlyList<LayerSpec> Mlp(ModelConfig c)
    {
        var layers = new List<LayerSpec>();
        for (int i = 0; i < c.Layers.Length; i++)
        {
            layers.Add(new LinearSpec { Name = $"mlp.{i}", Output = c.Layers[i] });
            layers.Add(new ActivationSpec { Activation = c.Activation });
        }
        layers.Add(Head(c));
        return layers;
    }

    /// <summary>The convolutional options of a configuration (the defaults when it gives none).</summary>
    internal static ConvModelOptions ConvOf(ModelConfig c) => c.Conv ?? new ConvModelOptions();

    // The other conv kinds apply their operators as they are: a WᵀW method for them would be silently ignored.
    private static void OnlyConvOptEqHasAGram(ConvModelOptions o, string kind)
    {
        if (o.Gram != Solvers.Operators.GramMethod.Convolutions)
            throw new ArgumentException($"the WᵀW method ({Solvers.Operators.GramMethods.Name(o.Gram)}) is a conv-opteq setting; {kind} applies its operator as it is (leave it convs)");
    }

    /// <summary>Average pooling (when Pool &gt; 1) and the linear head on C×side×side features.</summary>
    private static IEnumerable<LayerSpec> PooledHead(ModelConfig c, int channels, int side)
    {
        var o = ConvOf(c);
        if (o.Pool > 1) yield return new AvgPool2dSpec { Channels = channels, Height = side, Width = side, Kernel = o.Pool };
        yield return Head(c);
    }

    public static IReadOnlyList<LayerSpec> ConvOptEq(ModelConfig c)
    {
        var o = ConvOf(c);
        if (o.Channels.Length != 1) throw new ArgumentException($"conv-opteq has one hidden convolution: give one channel count (--channels), not {o.Channels.Length}");
        int side = o.ImageSide(c.Input);
        var layer = new ConvOptEqSpec
        {
            Name = "conv", InChannels = o.ImageChannels, Height = side, Width = side, Channels = o.Channels[0], KernelSize = o.KernelSize,
            Padding = o.Padding, InjectionStride = o.InjectionStride, Activation = c.Activation, Gamma = c.Gamma,
            Forward = c.ForwardOptions, Backward = c.BackwardOptions.For(AdjointStructure.Symmetric), Gram = o.Gram,
        };
        var hidden = layer.LayerOptions.HiddenGeometry;
        return [layer, .. PooledHead(c, hidden.InChannels, hidden.Height)];
    }

    // multitier-opteq: one tier per --channels entry, tier 1 at the injection's resolution, the head on the last tier(s).
    public static IReadOnlyList<LayerSpec> MultiTierOptEq(ModelConfig c)
    {
        var o = ConvOf(c);
        OnlyConvOptEqHasAGram(o, "multitier-opteq");
        int side = o.ImageSide(c.Input);
        var layer = new MultiTierOptEqSpec
        {
            Name = "tiers", InChannels = o.ImageChannels, Height = side, Width = side, Channels = [.. o.Channels], KernelSize = o.KernelSize,
            Padding = o.Padding, InjectionStride = o.InjectionStride, Activation = c.Activation, Gamma = c.Gamma, HeadTiers = o.HeadTiers,
            Forward = c.ForwardOptions, Backward = c.BackwardOptions.For(AdjointStructure.Symmetric),
        };
        // Pooling needs one C×H×W image: several output tiers go to the head unpooled.
        if (o.HeadTiers > 1 && o.Pool > 1)
            throw new ArgumentException($"the head reads {o.HeadTiers} tiers of different sizes, which cannot be pooled together: use pool 1 with head tiers > 1");
        var last = layer.LayerOptions.Tiers.Diagonal[^1];
        return [layer, .. PooledHead(c, last.InChannels, last.Height)];
    }

    // cnn: conv (k×k, padding k/2; stride --injection-stride for the first) → activation → avg pool (--pool > 1), per
    // --channels entry, then the linear head on the last maps.
    public static IReadOnlyList<LayerSpec> Cnn(ModelConfig c)
    {
        var o = ConvOf(c);
        int side = o.ImageSide(c.Input), channels = o.ImageChannels;
        var layers = new List<LayerSpec>();
        for (int i = 0; i < o.Channels.Length; i++)
        {
            var conv = new Conv2dSpec
            {
                Name = $"conv.{i}", InChannels = channels, Height = side, Width = side, OutChannels = o.Channels[i], KernelSize = o.KernelSize,
                Stride = i == 0 ? o.InjectionStride : 1, Padding = o.KernelSize / 2, PaddingMode = o.Padding,
            };
            layers.Add(conv);
            layers.Add(new ActivationSpec { Activation = c.Activation });
            var g = conv.Geometry;
            (channels, side) = (g.OutChannels, g.OutHeight);
            if (o.Pool <= 1) continue;
            if (side < o.Pool)
                throw new ArgumentException($"cnn: the maps after convolution {i} are {side}×{side}, smaller than the pooling kernel {o.Pool}: give fewer channel counts (--channels), a smaller --pool or --injection-stride");
            layers.Add(new AvgPool2dSpec { Channels = channels, Height = side, Width = side, Kernel = o.Pool });
            side = (side - o.Pool) / o.Pool + 1;
        }
        layers.Add(Head(c));
        return layers;
    }
}
