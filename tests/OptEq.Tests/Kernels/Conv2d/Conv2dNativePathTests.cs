using System.Runtime.Intrinsics.X86;
using NUnit.Framework;
using OptEq.Kernels.Native;

namespace OptEq.Tests.Kernels;

/// <summary>
/// The awkward conv cases (<see cref="ConvCase.Awkward"/>) reach each native float32 algorithm, so that the reference
/// comparisons in <see cref="Conv2dKernelTests"/> test the direct kernels and not only im2col + GEMM.
/// </summary>
[TestFixture]
public sealed class Conv2dNativePathTests
{
    [Test]
    public void AwkwardCasesReachTheDirectAndPolyphasePaths()
    {
        if (!Fma.IsSupported || !Avx2.IsSupported || NativeConvolution.ColumnsOnly) Assert.Ignore("the direct kernels need AVX2 + FMA");
        var geometries = ConvCase.Awkward.Select(c => ConvCase.Parse(c).G).ToArray();
        int Count(Func<OptEq.Kernels.Conv2dGeometry, bool> reaches, bool circular) =>
            geometries.Count(g => reaches(g) && (g.PaddingMode == OptEq.Kernels.ConvPadding.Circular) == circular);
        foreach (bool circular in new[] { false, true })
        {
            string border = circular ? "circular" : "zero";
            Assert.That(Count(g => DirectConv.Applies(g), circular), Is.GreaterThanOrEqualTo(1), $"stride-1 forward, {border} padding");
            Assert.That(Count(g => DirectConvWeight.Applies(g), circular), Is.GreaterThanOrEqualTo(2), $"stride-1 weight gradient with few input channels, {border} padding");
            Assert.That(Count(g => PolyphaseConv.Applies(g), circular), Is.GreaterThanOrEqualTo(3), $"stride-2 forward, {border} padding");
            Assert.That(Count(g => PolyphaseConvTranspose.Applies(g), circular), Is.GreaterThanOrEqualTo(3), $"stride-2 input gradient, {border} padding");
            Assert.That(Count(g => StridedConvWeight.Applies(g), circular), Is.GreaterThanOrEqualTo(3), $"stride-2 weight gradient, {border} padding");
        }
        foreach (bool circular in new[] { false, true })
        {
            string border = circular ? "circular" : "zero";
            Assert.That(Count(g => ChannelsLastConv.AppliesForward(g), circular), Is.GreaterThanOrEqualTo(3), $"stride-2 channels-last forward, {border} padding");
            Assert.That(Count(g => ChannelsLastConv.AppliesBackwardInput(g), circular), Is.GreaterThanOrEqualTo(3), $"stride-2 channels-last input gradient, {border} padding");
        }
        // The channels-last blocks: a 16-wide block with an 8-wide tail and channel counts off whole vectors, both ways; one
        // input channel; a 1×1 image.
        Assert.That(geometries.Any(g => ChannelsLastConv.AppliesForward(g) && g.OutChannels > 16 && (g.OutChannels + 7) / 8 % 2 == 1), "a forward 16-wide block plus an 8-wide tail with partly empty lanes");
        Assert.That(geometries.Any(g => ChannelsLastConv.AppliesForward(g) && g.OutChannels % 8 != 0 && g.OutChannels > 8), "a forward output channel count off whole vectors");
        Assert.That(geometries.Any(g => ChannelsLastConv.AppliesBackwardInput(g) && g.InChannels > 16 && (g.InChannels + 7) / 8 % 2 == 1), "an input gradient 16-wide block plus an 8-wide tail");
        Assert.That(geometries.Any(g => ChannelsLastConv.AppliesBackwardInput(g) && g.InChannels % 8 != 0 && g.InChannels < 16), "an input gradient with one vector partly empty");
        // One input channel at stride ≥ 2 with at most 9 taps goes to the tap-plane kernel (Conv2dNative.Forward tries it
        // before channels-last), with either border; larger kernels to channels-last.
        foreach (bool circular in new[] { false, true })
            Assert.That(Count(g => OneChannelConv.Applies(g), circular), Is.GreaterThanOrEqualTo(3), $"one-input-channel forward, {(circular ? "circular" : "zero")} padding");
        Assert.That(geometries.Where(g => g.InChannels == 1 && g.Stride >= 2).All(g => OneChannelConv.Applies(g) == (g.KernelHeight * g.KernelWidth <= OneChannelConv.MaxTaps)),
            "every one-input-channel stride ≥ 2 case with at most 9 taps reaches OneChannelConv, and no other");
        Assert.That(geometries.Any(g => !OneChannelConv.Applies(g) && g.InChannels == 1 && g.Stride == 2 && ChannelsLastConv.AppliesForward(g)), "a 5×5 one-input-channel case stays channels-last");
        Assert.That(geometries.Any(g => OneChannelConv.Applies(g) && g.Stride == 3), "one input channel at stride 3");
        Assert.That(geometries.Any(g => OneChannelConv.Applies(g) && g.OutChannels % 4 == 1 && g.OutChannels > 4), "output channels past whole blocks of 4");
        Assert.That(geometries.Any(g => OneChannelConv.Applies(g) && g.OutChannels == 1), "one output channel only");
        Assert.That(geometries.Any(g => OneChannelConv.Applies(g) && g.OutPixels % 8 != 0 && g.OutPixels > 24), "a masked last vector after a whole block");
        Assert.That(geometries.Any(g => OneChannelConv.Applies(g) && g.OutPixels % 24 == 0), "output planes of whole blocks");
        Assert.That(geometries.Any(g => OneChannelConv.Applies(g) && g is { Height: 1, Width: 1 }), "a 1×1 image");
        Assert.That(geometries.Any(g => ChannelsLastConv.AppliesForward(g) && g.InChannels > 1 && g.OutChannels < 4), "fewer than 4 output channels at stride 2");
        Assert.That(geometries.Any(g => ChannelsLastConv.AppliesBackwardInput(g) && g is { Height: 1, Width: 1 }), "a 1×1 image at stride 2");
        Assert.That(geometries.Any(g => ChannelsLastConv.AppliesBackwardInput(g) && g.KernelHeight == 1), "a 1×1 kernel at stride 2 (phases without taps)");
        // Kernels with an even size and a 1×1 kernel (a phase without taps) at stride 2, both ways.
        Assert.That(geometries.Any(g => PolyphaseConvTranspose.Applies(g) && PolyphaseConv.Applies(g) && (g.KernelHeight % 2 == 0 || g.KernelWidth % 2 == 0)), "an even kernel size at stride 2");
        Assert.That(geometries.Any(g => PolyphaseConvTranspose.Applies(g) && PolyphaseConv.Applies(g) && g.KernelHeight == 1), "a 1×1 kernel at stride 2");
    }
}
