using System.Text.Json.Serialization;
using OptEq.Autodiff.Layers;

namespace OptEq.Autodiff.Models;

/// <summary>A multi-tier OptEq layer (<see cref="MultiTierOptEqLayer{T}"/>) on NCHW images of InChannels×Height×Width; outputs the last <see cref="HeadTiers"/> tiers.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record MultiTierOptEqSpec : EquilibriumLayerSpec
{
    public required int InChannels { get; init; }
    public required int Height { get; init; }
    public required int Width { get; init; }
    /// <summary>Channels per tier.</summary>
    public required int[] Channels { get; init; }
    public int KernelSize { get; init; } = 3;
    [JsonConverter(typeof(ConvPaddingJsonConverter))]
    public ConvPadding Padding { get; init; } = ConvPadding.Zero;
    public int InjectionStride { get; init; } = 1;
    public double Gamma { get; init; } = 0.95;
    public int PowerSteps { get; init; } = 2;
    /// <summary>How many of the last tiers the layer outputs (1: the last tier only).</summary>
    public int HeadTiers { get; init; } = 1;

    /// <summary>The layer's options (the solvers and activation of the spec).</summary>
    [JsonIgnore]
    public MultiTierOptEqLayerOptions LayerOptions => new()
    {
        InChannels = InChannels, Height = Height, Width = Width, Channels = Channels, KernelSize = KernelSize, Padding = Padding,
        InjectionStride = InjectionStride, Activation = Activation, Gamma = Gamma, PowerSteps = PowerSteps, HeadTiers = HeadTiers, Forward = Forward, Backward = Backward,
    };

    /// <summary>The output tiers' Σ C·H·W.</summary>
    public override int OutputSize(int input) => LayerOptions.OutputSize;

    public override void Validate(int input)
    {
        base.Validate(input);
        OptEqLayerOptions.CheckGamma(Gamma);
        LayerOptions.Validate();
        if (input != InChannels * Height * Width)
            throw new ArgumentException($"multitier-opteq takes {InChannels}×{Height}×{Width} = {InChannels * Height * Width} inputs, it receives {input}");
    }

    public override ILayer<T> Build<T>(Device device, int input, Random rng) => new MultiTierOptEqLayer<T>(device, Name!, LayerOptions, rng);

    // A record compares arrays by reference: compare the channels by value (a JSON round trip makes a new array).
    public bool Equals(MultiTierOptEqSpec? other) => other is not null && base.Equals(other) && Channels.SequenceEqual(other.Channels)
        && InChannels == other.InChannels && Height == other.Height && Width == other.Width && KernelSize == other.KernelSize && Padding == other.Padding
        && InjectionStride == other.InjectionStride && Gamma == other.Gamma && PowerSteps == other.PowerSteps && HeadTiers == other.HeadTiers;
    public override int GetHashCode() => HashCode.Combine(base.GetHashCode(), Channels.Length, InChannels, Height, KernelSize, InjectionStride, Gamma);
}
