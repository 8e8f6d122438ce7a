using System.CommandLine;
using OptEq.Autodiff.Models;
using OptEq.Autodiff.Validation;
using OptEq.Kernels;
using OptEq.Solvers.Operators;

namespace OptEq.Cli.Commands;

/// <summary>
/// The options of the convolutional model kinds on <c>opteq train</c> (conv-opteq, multitier-opteq, cnn and any conv peer):
/// <c>--channels</c>, <c>--kernel-size</c>, <c>--padding</c>, <c>--injection-stride</c>, <c>--pool</c>, <c>--head-tiers</c>, <c>--gram</c>, <c>--image-channels</c>.
/// </summary>
public sealed class ConvCliOptions
{
    private static readonly ConvModelOptions Defaults = new();

    public Option<int[]> Channels { get; } = CommonOptions.IntList("--channels", "Hidden channels of the convolutional models: one for conv-opteq, one per tier for multitier-opteq, one per convolution for cnn (e.g. 16,32,32).", Defaults.Channels);
    public Option<int> KernelSize { get; } = new("--kernel-size") { Description = "Kernel size of the convolutions (odd).", DefaultValueFactory = _ => Defaults.KernelSize };
    public Option<string> Padding { get; } = new("--padding") { Description = "Padding of the hidden convolutions: zero or circular.", DefaultValueFactory = _ => "zero", HelpName = "zero|circular" };
    public Option<int> InjectionStride { get; } = new("--injection-stride") { Description = "Stride of the input convolution (cnn: of its first convolution; 2: the hidden state at half the image's resolution).", DefaultValueFactory = _ => Defaults.InjectionStride };
    public Option<int> Pool { get; } = new("--pool") { Description = "Average-pooling kernel (and stride) before the linear head; 1 for none.", DefaultValueFactory = _ => Defaults.Pool };
    public Option<int> HeadTiers { get; } = new("--head-tiers") { Description = "multitier-opteq: how many of the last tiers the linear head reads (1: the last tier only; > 1 needs --pool 1).", DefaultValueFactory = _ => Defaults.HeadTiers };
    public Option<string?> Gram { get; } = new("--gram")
    {
        Description = "conv-opteq: how the solves apply WᵀW — convs (a convolution then a transposed convolution), blocked (the same over " +
            "cache-sized row blocks), fourier (per frequency, refreshed once per step; needs --padding circular) or auto (blocked below " +
            $"{GramMethods.FourierFromChannels} channels; from there fourier with circular padding, else convs; convs off the CPU). Default auto. Same results up to rounding.",
        HelpName = GramMethods.NameList,
    };
    public Option<int> ImageChannels { get; } = new("--image-channels") { Description = "Channels of the input images (1 for MNIST); the images are square.", DefaultValueFactory = _ => Defaults.ImageChannels };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Channels, KernelSize, Padding, InjectionStride, Pool, HeadTiers, Gram, ImageChannels }) command.Options.Add(option);
    }

    /// <summary>Whether a model kind reads these options (a convolutional kind's name starts with "conv-" or "multitier-"; and the feedforward cnn).</summary>
    public static bool IsConvolutional(ModelKind kind) => kind.Name.StartsWith("conv-", StringComparison.Ordinal) || kind.Name.StartsWith("multitier-", StringComparison.Ordinal) || kind == ModelKind.Cnn;

    /// <summary>The options for a convolutional kind (null for the others), checked: an <see cref="InputException"/> names the option.</summary>
    public ConvModelOptions? Parse(ParseResult parse, ModelKind kind)
    {
        if (!IsConvolutional(kind)) return null;
        var channels = parse.GetValue(Channels)!;
        if (channels.Length == 0) throw InputException.Option(Channels.Name, "give at least one channel count");
        OptionChecks.Each(channels, Channels.Name, 1, 1024);
        if (kind == ModelKind.ConvOptEq && channels.Length != 1)
            throw InputException.Option(Channels.Name, $"conv-opteq has one hidden convolution: give one channel count, not {channels.Length}");
        int kernel = OptionChecks.Range(parse.GetValue(KernelSize), KernelSize.Name, 1, 15);
        if (kernel % 2 == 0) throw InputException.Option(KernelSize.Name, $"the kernel size must be odd (same padding k/2), got {kernel}");
        var padding = parse.GetValue(Padding) switch
        {
            "zero" => ConvPadding.Zero,
            "circular" => ConvPadding.Circular,
            var other => throw InputException.Option(Padding.Name, $"'{other}' is not a padding: zero or circular"),
        };
        int headTiers = parse.GetValue(HeadTiers);
        if (headTiers != 1 && kind != ModelKind.MultiTierOptEq)
            throw InputException.Option(HeadTiers.Name, $"only multitier-opteq has tiers; {kind.Name} takes 1");
        OptionChecks.Range(headTiers, HeadTiers.Name, 1, channels.Length);
        int pool = OptionChecks.Range(parse.GetValue(Pool), Pool.Name, 1, 64);
        if (headTiers > 1 && pool > 1)
            throw InputException.Option(HeadTiers.Name, $"a head on {headTiers} tiers of different sizes cannot be pooled: give --pool 1");
        var gram = ParseGram(parse.GetValue(Gram), kind, padding);
        return new ConvModelOptions
        {
            Channels = channels, KernelSize = kernel, Padding = padding, Gram = gram,
            InjectionStride = OptionChecks.Range(parse.GetValue(InjectionStride), InjectionStride.Name, 1, 8),
            Pool = pool, HeadTiers = headTiers,
            ImageChannels = OptionChecks.Range(parse.GetValue(ImageChannels), ImageChannels.Name, 1, 64),
        };
    }

    /// <summary>--gram: auto when not given for conv-opteq, convs for the other kinds (which take no other value).</summary>
    private GramMethod ParseGram(string? given, ModelKind kind, ConvPadding padding)
    {
        if (given is null) return kind == ModelKind.ConvOptEq ? GramMethod.Auto : GramMethod.Convolutions;
        if (!GramMethods.TryParse(given, out var gram))
            throw InputException.Option(Gram.Name, $"'{given}' is not a WᵀW method: {GramMethods.NameList}");
        if (kind != ModelKind.ConvOptEq && gram != GramMethod.Convolutions)
            throw InputException.Option(Gram.Name, $"{given} is a conv-opteq setting; {kind.Name} applies its operator as it is");
        if (gram == GramMethod.Fourier && padding != ConvPadding.Circular)
            throw InputException.Option(Gram.Name, "fourier needs --padding circular: only a circular convolution is diagonalised by the DFT");
        return gram;
    }
}
