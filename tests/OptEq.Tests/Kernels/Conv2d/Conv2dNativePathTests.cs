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
        // Staging channels-last goes by rows: rows of 8 pixels or more (a last tile overlapping the one before) and rows
        // narrower than 8 (one masked tile), each with channels past whole groups of 8.
        Assert.That(geometries.Any(g => ChannelsLastConv.AppliesForward(g) && g.Width >= 8 && g.Width % 8 != 0 && g.InChannels % 8 != 0), "an input staged in rows of 8 pixels or more");
        Assert.That(geometries.Any(g => ChannelsLastConv.AppliesBackwardInput(g) && g.OutWidth >= 8 && g.OutWidth % 8 != 0 && g.OutChannels % 8 != 0), "an output gradient staged in rows of 8 pixels or more");
        Assert.That(geometries.Any(g => ChannelsLastConv.AppliesBackwardInput(g) && g.OutWidth is > 1 and < 8 && g.OutChannels >= 8), "an output gradient staged in masked rows");
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

    /// <summary>
    /// The channels-last stride-2 passes and the one-channel forward hand samples to the cores from a shared counter: at a
    /// size that runs on every core, with β ≠ 0 (a sample done twice or never would show), every sample matches the
    /// float64 reference.
    /// </summary>
    [TestCase(16, 16, TestName = "SamplesTakenFromASharedCounterAreEachDoneOnce(channels-last 16x14x14->16 s2)")]
    [TestCase(1, 23, TestName = "SamplesTakenFromASharedCounterAreEachDoneOnce(one channel 1x14x14->23 s2)")]
    public void SamplesTakenFromASharedCounterAreEachDoneOnce(int inChannels, int outChannels)
    {
        if (!Fma.IsSupported || !Avx2.IsSupported || NativeConvolution.ColumnsOnly) Assert.Ignore("the channels-last and one-channel kernels need AVX2 + FMA");
        if (NativeParallel.Workers < 2) Assert.Ignore("one core: nothing is shared");
        var g = new OptEq.Kernels.Conv2dGeometry(inChannels, 14, 14, outChannels, 3, 3, 2, 1, OptEq.Kernels.ConvPadding.Zero);
        if (inChannels == 1) Assert.That(OneChannelConv.Applies(g));
        else Assert.That(ChannelsLastConv.AppliesForward(g) && ChannelsLastConv.AppliesBackwardInput(g));
        const int batch = 37;
        Assert.That((long)g.OutputSize * g.WeightColumns * batch / NativeParallel.Workers, Is.GreaterThan(NativeParallel.SerialThreshold), "the call runs on every core");
        var rng = new Random(3);
        double[] Random(int n) => [.. Enumerable.Range(0, n).Select(_ => (double)(float)(2 * rng.NextDouble() - 1))];
        double[] x = Random(batch * g.InputSize), w = Random(g.OutChannels * g.WeightColumns), y0 = Random(batch * g.OutputSize), dx0 = Random(batch * g.InputSize);
        using var device = new NativeCpuDevice();
        using var X = device.FromArray(x.Select(v => (float)v).ToArray(), batch, g.InputSize);
        using var W = device.FromArray(w.Select(v => (float)v).ToArray(), g.OutChannels, g.WeightColumns);
        using var Y = device.FromArray(y0.Select(v => (float)v).ToArray(), batch, g.OutputSize);
        using var DX = device.FromArray(dx0.Select(v => (float)v).ToArray(), batch, g.InputSize);
        device.Conv2d(g, X, W, null, Y, 0.5f);
        device.Conv2dBackwardInput(g, Y, W, DX, 0.5f);
        var y = OptEq.Kernels.Reference.ReferenceKernels.Conv2d(g, batch, x, w, null, 0.5, y0);
        var yf = Y.ToArray();
        // The input gradient is checked on the device's own forward result, so each pass is held to its own error only.
        var dx = OptEq.Kernels.Reference.ReferenceKernels.Conv2dBackwardInput(g, batch, [.. yf.Select(v => (double)v)], w, 0.5, dx0);
        var dxf = DX.ToArray();
        for (int i = 0; i < y.Length; i++) Assert.That(yf[i], Is.EqualTo(y[i]).Within(1e-4 * (1 + Math.Abs(y[i]))), $"forward element {i} (sample {i / g.OutputSize})");
        for (int i = 0; i < dx.Length; i++) Assert.That(dxf[i], Is.EqualTo(dx[i]).Within(1e-4 * (1 + Math.Abs(dx[i]))), $"input gradient element {i} (sample {i / g.InputSize})");
    }
}
