using NUnit.Framework;
using OptEq.Kernels;
using OptEq.Kernels.Native;

namespace OptEq.Tests.Kernels;

/// <summary>The native convolution and pooling entries allocate nothing once the device pool holds their column buffers.</summary>
[TestFixture]
public sealed class Conv2dAllocationTests
{
    // Stride 1 runs Winograd (Auto) or the direct kernel (Direct); stride 2 the channels-last forward and input gradient
    // (the tap-plane forward for one input channel) and the polyphase weight gradient (Auto) or the polyphase kernels
    // throughout (Direct); Im2Col the column matrix and the GEMM everywhere.
    [TestCase(8, ConvPadding.Zero, 1, NativeConvAlgorithm.Auto)]
    [TestCase(8, ConvPadding.Circular, 1, NativeConvAlgorithm.Direct)]
    [TestCase(8, ConvPadding.Circular, 2, NativeConvAlgorithm.Auto)]
    [TestCase(3, ConvPadding.Zero, 2, NativeConvAlgorithm.Auto)]
    [TestCase(3, ConvPadding.Zero, 2, NativeConvAlgorithm.Direct)]
    [TestCase(1, ConvPadding.Zero, 1, NativeConvAlgorithm.Auto)]
    [TestCase(3, ConvPadding.Zero, 1, NativeConvAlgorithm.Im2Col)]
    [TestCase(3, ConvPadding.Zero, 2, NativeConvAlgorithm.Im2Col)]
    [TestCase(3, ConvPadding.Zero, 1, NativeConvAlgorithm.Auto, 1)] // one input channel: the direct weight gradient
    [TestCase(3, ConvPadding.Zero, 2, NativeConvAlgorithm.Auto, 1)] // one input channel at stride 2: the tap-plane forward
    [TestCase(8, ConvPadding.Circular, 2, NativeConvAlgorithm.Auto, 1)]
    public void SteadyStateNativeCallsAllocateNothing(int batch, ConvPadding padding, int stride, NativeConvAlgorithm algorithm, int inChannels = 8)
    {
        var previous = NativeConvolution.Algorithm;
        NativeConvolution.Algorithm = algorithm;
        try { CheckSteadyState(batch, padding, stride, inChannels); }
        finally { NativeConvolution.Algorithm = previous; }
    }

    private static void CheckSteadyState(int batch, ConvPadding padding, int stride, int inChannels)
    {
        using var device = new NativeCpuDevice();
        var g = new Conv2dGeometry(inChannels, 14, 14, 8, 3, 3, stride, 1, padding);
        var pointwise = new Conv2dGeometry(inChannels, 14, 14, 8, 1, 1);
        if (stride == 2 && NativeConvolution.Algorithm == NativeConvAlgorithm.Auto && System.Runtime.Intrinsics.X86.Fma.IsSupported
            && System.Runtime.Intrinsics.X86.Avx2.IsSupported && SimdWidth.Current >= VectorWidth.Bits256)
        {
            if (inChannels == 1) Assert.That(OneChannelConv.Applies(g), "one input channel at stride 2 under Auto reaches the tap-plane forward");
            else Assert.That(ChannelsLastConv.AppliesForward(g) && ChannelsLastConv.AppliesBackwardInput(g), "stride 2 under Auto reaches the channels-last kernels");
        }
        var pool = new Pool2dGeometry(8, g.OutHeight, g.OutWidth, 2, 2);
        using var x = device.FromArray(Enumerable.Range(0, batch * g.InputSize).Select(i => MathF.Sin(i)).ToArray(), batch, g.InputSize);
        using var w = device.FromArray(Enumerable.Range(0, g.OutChannels * g.WeightColumns).Select(i => MathF.Cos(i)).ToArray(), g.OutChannels, g.WeightColumns);
        using var w1 = device.Allocate<float>(pointwise.OutChannels, pointwise.WeightColumns);
        using var b = device.Allocate<float>(g.OutChannels);
        using var y = device.Allocate<float>(batch, g.OutputSize);
        using var y1 = device.Allocate<float>(batch, pointwise.OutputSize);
        using var dx = device.Allocate<float>(batch, g.InputSize);
        using var dw = device.Allocate<float>(g.OutChannels, g.WeightColumns);
        using var pooled = device.Allocate<float>(batch, pool.OutputSize);

        void Step()
        {
            device.Conv2d(g, x, w, b, y);
            device.Conv2d(pointwise, x, w1, null, y1, 1f);
            device.AvgPool2d(pool, y, pooled);
            device.AvgPool2dBackward(pool, pooled, y, 0.5f);
            device.Conv2dBackwardInput(g, y, w, dx);
            device.ConvTranspose2d(pointwise, y1, w1, dx, 1f);
            device.Conv2dBackwardWeight(g, x, y, dw, 1f);
            device.Conv2dBackwardBias(g, y, b);
        }
        for (int i = 0; i < 3; i++) Step(); // the first calls fill the pool and size the GEMM's packing buffers
        SteadyStateAllocation.AssertNone(Step, 10, "conv and pooling kernels");
    }
}
