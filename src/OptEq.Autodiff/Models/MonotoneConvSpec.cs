using System.Text.Json.Serialization;
using OptEq.Autodiff.Layers;

namespace OptEq.Autodiff.Models;

/// <summary>
/// A monotone operator network's single-convolution layer (<see cref="MonotoneConvLayer{T}"/>), pooled: input a square
/// image of <see cref="InputChannels"/> channels (its side inferred from the input width), output C·(H/p)·(W/p).
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record MonotoneConvSpec : EquilibriumLayerSpec
{
    public required int Channels { get; init; }
    public int InputChannels { get; init; } = 1;
    public int KernelSize { get; init; } = 3;
    [JsonConverter(typeof(ConvPaddingJsonConverter))]
    public ConvPadding Padding { get; init; } = ConvPadding.Circular;
    /// <summary>Stride of the input convolution (1: the state at the image's resolution, as the paper).</summary>
    public int InjectionStride { get; init; } = 1;
    public int Pool { get; init; } = 4;
    public double Margin { get; init; } = 1.0;

    /// <summary>The layer's options for an input of <paramref name="input"/> features (a square image).</summary>
    public MonotoneConvLayerOptions Options(int input)
    {
        if (InputChannels < 1) throw new ArgumentOutOfRangeException(nameof(InputChannels), InputChannels, "conv-mon: input channels must be ≥ 1");
        int side = (int)Math.Round(Math.Sqrt(input / (double)InputChannels));
        if (side < 1 || InputChannels * side * side != input)
            throw new ArgumentException($"conv-mon needs a square image: {input} input features are not {InputChannels} channel(s) of side × side");
        return new MonotoneConvLayerOptions
        {
            InputChannels = InputChannels, Height = side, Width = side, Channels = Channels, KernelSize = KernelSize, Padding = Padding, InjectionStride = InjectionStride,
            Pool = Pool, Margin = Margin, Activation = Activation, Forward = Forward, Backward = Backward,
        };
    }

    public override int OutputSize(int input) => Options(input).Pooling.OutputSize;

    public override void Validate(int input)
    {
        base.Validate(input);
        Positive(Channels, "channels");
        Options(input).Validate();
    }

    public override ILayer<T> Build<T>(Device device, int input, Random rng) => new MonotoneConvLayer<T>(device, Name!, Options(input), rng);
}
