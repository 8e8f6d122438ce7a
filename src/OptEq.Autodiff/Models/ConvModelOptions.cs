using System.Text.Json.Serialization;
using OptEq.Solvers.Operators;

namespace OptEq.Autodiff.Models;

/// <summary>
/// The options of the convolutional model kinds (conv-opteq, multitier-opteq, and any conv peer), as the command line
/// gives them: the hidden channels (one for a single convolution, one per tier for multi-tier), the kernel size, W's
/// padding, the input convolution's stride and the head's pooling. The image is square, <see cref="ImageChannels"/>
/// channels of √(input / channels) pixels a side (MNIST: 1×28×28).
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record ConvModelOptions
{
    public int[] Channels { get; init; } = [32];
    public int KernelSize { get; init; } = 3;
    [JsonConverter(typeof(ConvPaddingJsonConverter))]
    public ConvPadding Padding { get; init; } = ConvPadding.Zero;
    public int InjectionStride { get; init; } = 2;
    /// <summary>Average pooling kernel (= stride) before the linear head; 1 for none.</summary>
    public int Pool { get; init; } = 2;
    public int ImageChannels { get; init; } = 1;
    /// <summary>multitier-opteq: how many of the last tiers the head reads (1: the last tier only).</summary>
    public int HeadTiers { get; init; } = 1;
    /// <summary>conv-opteq: how the solves apply WᵀW (<see cref="GramMethod"/>); a configuration written before it existed has none and means convs.</summary>
    [JsonConverter(typeof(GramMethodJsonConverter))]
    public GramMethod Gram { get; init; } = GramMethod.Convolutions;

    /// <summary>The side of the square image for <paramref name="input"/> features, or an error that says why there is none.</summary>
    public int ImageSide(int input)
    {
        if (ImageChannels < 1) throw new ArgumentOutOfRangeException(nameof(ImageChannels), ImageChannels, "image channels must be ≥ 1");
        int side = (int)Math.Round(Math.Sqrt(input / (double)ImageChannels));
        if (side < 1 || ImageChannels * side * side != input)
            throw new ArgumentException($"a convolutional model needs square images: {input} inputs are not {ImageChannels} channel(s) of n×n pixels");
        return side;
    }

    public bool Equals(ConvModelOptions? other) => other is not null && Channels.SequenceEqual(other.Channels) && KernelSize == other.KernelSize
        && Padding == other.Padding && InjectionStride == other.InjectionStride && Pool == other.Pool && ImageChannels == other.ImageChannels && HeadTiers == other.HeadTiers && Gram == other.Gram;
    public override int GetHashCode() => HashCode.Combine(Channels.Length, KernelSize, Padding, InjectionStride, Pool, ImageChannels);
}
