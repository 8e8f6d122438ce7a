using System.Text.Json.Serialization;
using OptEq.Autodiff.Layers;
using OptEq.Solvers.Operators;

namespace OptEq.Autodiff.Models;

/// <summary>A convolutional OptEq layer (<see cref="ConvOptEqLayer{T}"/>) on NCHW images of InChannels×Height×Width.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record ConvOptEqSpec : EquilibriumLayerSpec
{
    public required int InChannels { get; init; }
    public required int Height { get; init; }
    public required int Width { get; init; }
    public required int Channels { get; init; }
    public int KernelSize { get; init; } = 3;
    [JsonConverter(typeof(ConvPaddingJsonConverter))]
    public ConvPadding Padding { get; init; } = ConvPadding.Zero;
    public int InjectionStride { get; init; } = 1;
    public double Gamma { get; init; } = 0.95;
    public int PowerSteps { get; init; } = 2;
    /// <summary>How the solves apply WᵀW (<see cref="ConvOptEqLayerOptions.Gram"/>); a spec written before it existed has none and means convs.</summary>
    [JsonConverter(typeof(GramMethodJsonConverter))]
    public GramMethod Gram { get; init; } = GramMethod.Convolutions;

    /// <summary>The layer's options (the solvers and activation of the spec).</summary>
    [JsonIgnore]
    public ConvOptEqLayerOptions LayerOptions => new()
    {
        InChannels = InChannels, Height = Height, Width = Width, Channels = Channels, KernelSize = KernelSize, Padding = Padding,
        InjectionStride = InjectionStride, Activation = Activation, Gamma = Gamma, PowerSteps = PowerSteps, Forward = Forward, Backward = Backward,
        Gram = Gram,
    };

    public override int OutputSize(int input) => LayerOptions.HiddenGeometry.InputSize;

    public override void Validate(int input)
    {
        base.Validate(input);
        OptEqLayerOptions.CheckGamma(Gamma);
        LayerOptions.Validate();
        if (input != InChannels * Height * Width)
            throw new ArgumentException($"conv-opteq takes {InChannels}×{Height}×{Width} = {InChannels * Height * Width} inputs, it receives {input}");
    }

    public override ILayer<T> Build<T>(Device device, int input, Random rng) => new ConvOptEqLayer<T>(device, Name!, LayerOptions, rng);
}

/// <summary>Average pooling (<see cref="AvgPool2dLayer{T}"/>) of Channels×Height×Width images, kernel and stride <see cref="Kernel"/>.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record AvgPool2dSpec : LayerSpec
{
    public required int Channels { get; init; }
    public required int Height { get; init; }
    public required int Width { get; init; }
    public required int Kernel { get; init; }

    [JsonIgnore] public override string? Name { get => null; init { } }

    private Pool2dGeometry Geometry => new(Channels, Height, Width, Kernel, Kernel);

    public override int OutputSize(int input) => Geometry.OutputSize;

    public override void Validate(int input)
    {
        Positive(Channels, "pool channels"); Positive(Height, "pool height"); Positive(Width, "pool width"); Positive(Kernel, "pool kernel");
        if (Kernel > Height || Kernel > Width) throw new ArgumentException($"the pooling kernel {Kernel} is larger than the {Height}×{Width} image");
        if (input != Channels * Height * Width) throw new ArgumentException($"avgpool2d takes {Channels}×{Height}×{Width} = {Channels * Height * Width} inputs, it receives {input}");
    }

    public override ILayer<T> Build<T>(Device device, int input, Random rng) => new AvgPool2dLayer<T>(Geometry);
}

/// <summary>
/// An explicit convolution (<see cref="Conv2dLayer{T}"/>) of InChannels×Height×Width images to OutChannels maps, a square
/// KernelSize kernel with the given stride and padding (parameters name.weight [out, in·k·k], name.bias [out]).
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record Conv2dSpec : LayerSpec
{
    public required int InChannels { get; init; }
    public required int Height { get; init; }
    public required int Width { get; init; }
    public required int OutChannels { get; init; }
    public int KernelSize { get; init; } = 3;
    public int Stride { get; init; } = 1;
    public int Padding { get; init; } = 1;
    [JsonConverter(typeof(ConvPaddingJsonConverter))]
    public ConvPadding PaddingMode { get; init; } = ConvPadding.Zero;
    public bool Bias { get; init; } = true;

    /// <summary>The convolution's geometry (throws a <see cref="ShapeException"/> that says what is wrong with it).</summary>
    [JsonIgnore]
    public Conv2dGeometry Geometry => new(InChannels, Height, Width, OutChannels, KernelSize, KernelSize, Stride, Padding, PaddingMode);

    public override int OutputSize(int input) => Geometry.OutputSize;

    public override void Validate(int input)
    {
        base.Validate(input);
        Positive(InChannels, "conv2d input channels"); Positive(OutChannels, "conv2d output channels"); Positive(KernelSize, "conv2d kernel size"); Positive(Stride, "conv2d stride");
        try { _ = Geometry; }
        catch (ShapeException e) { throw new ArgumentException($"layer '{Name}': {e.Message}"); }
        if (input != InChannels * Height * Width)
            throw new ArgumentException($"conv2d '{Name}' takes {InChannels}×{Height}×{Width} = {InChannels * Height * Width} inputs, it receives {input}");
    }

    public override ILayer<T> Build<T>(Device device, int input, Random rng) => new Conv2dLayer<T>(device, Name!, Geometry, rng, Bias);
}
