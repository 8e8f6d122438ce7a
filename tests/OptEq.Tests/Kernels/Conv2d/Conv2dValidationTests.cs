using NUnit.Framework;
using OptEq.Kernels;
using OptEq.Kernels.Native;

namespace OptEq.Tests.Kernels;

/// <summary>Bad geometry or shapes are refused with a message naming the entry and the problem, before any kernel runs (the checks are shared by every backend).</summary>
[TestFixture]
public sealed class Conv2dValidationTests
{
    private static readonly Conv2dGeometry G = new(3, 5, 7, 4, 3, 3, Stride: 2, Padding: 1);

    [Test]
    public void GeometriesThatCannotBeConvolvedAreRefused()
    {
        Assert.That(() => new Conv2dGeometry(0, 5, 5, 1, 3, 3), Throws.TypeOf<ShapeException>().With.Message.Contains("channels"));
        Assert.That(() => new Conv2dGeometry(1, 2, 2, 1, 5, 5, Padding: 1), Throws.TypeOf<ShapeException>().With.Message.Contains("larger than the 2×2 image"));
        Assert.That(() => new Conv2dGeometry(1, 2, 3, 1, 3, 3, Padding: 3, PaddingMode: ConvPadding.Circular), Throws.TypeOf<ShapeException>().With.Message.Contains("circular padding 3"));
        Assert.That(() => new Conv2dGeometry(1, 5, 5, 1, 3, 3, Stride: 0), Throws.TypeOf<ShapeException>().With.Message.Contains("stride"));
        Assert.That(() => new Conv2dGeometry(1, 5, 5, 1, 3, 3, Padding: -1), Throws.TypeOf<ShapeException>().With.Message.Contains("padding"));
        Assert.That(() => new Pool2dGeometry(2, 3, 3, 4, 4), Throws.TypeOf<ShapeException>().With.Message.Contains("window"));
        Assert.That(() => new Pool2dGeometry(2, 3, 3, 2, 0), Throws.TypeOf<ShapeException>().With.Message.Contains("stride"));
        Assert.That(G.OutHeight, Is.EqualTo(3));
        Assert.That(G.OutWidth, Is.EqualTo(4));
        Assert.That((G.InputSize, G.OutputSize, G.WeightColumns), Is.EqualTo((105, 48, 27)));
    }

    [Test]
    public void WrongShapesAreRefusedWithTheEntryAndTheExpectedShape()
    {
        using var device = new NativeCpuDevice();
        using var x = device.Allocate<float>(2, G.InputSize);
        using var y = device.Allocate<float>(2, G.OutputSize);
        using var w = device.Allocate<float>(G.OutChannels, G.WeightColumns);
        using var b = device.Allocate<float>(G.OutChannels);
        using var wrongX = device.Allocate<float>(2, G.InputSize + 1);
        using var wrongY = device.Allocate<float>(3, G.OutputSize);
        using var wrongW = device.Allocate<float>(G.OutChannels, G.WeightColumns - 1);
        using var wrongB = device.Allocate<float>(G.OutChannels + 1);

        Assert.That(() => device.Conv2d(G, wrongX, w, b, y), Throws.TypeOf<ShapeException>().With.Message.StartsWith("conv2d: input must be [batch, 105]"));
        Assert.That(() => device.Conv2d(G, x, w, b, wrongY), Throws.TypeOf<ShapeException>().With.Message.StartsWith("conv2d: output must be [2, 48]"));
        Assert.That(() => device.Conv2d(G, x, wrongW, b, y), Throws.TypeOf<ShapeException>().With.Message.StartsWith("conv2d: weight must be [4, 27]"));
        Assert.That(() => device.Conv2d(G, x, w, wrongB, y), Throws.TypeOf<ShapeException>().With.Message.StartsWith("conv2d: the bias must be contiguous with 4"));
        Assert.That(() => device.Conv2d(default, x, w, b, y), Throws.TypeOf<ShapeException>().With.Message.StartsWith("conv2d: conv2d geometry"));
        Assert.That(() => device.Conv2d(G, x, w, b, x.Reshape(2, G.InputSize).SliceColumns(0, G.OutputSize)), Throws.ArgumentException.With.Message.Contains("overlaps the input"));
        Assert.That(() => device.Conv2dBackwardInput(G, y, w, wrongX), Throws.TypeOf<ShapeException>().With.Message.StartsWith("conv2d-backward-input: gradInput must be [2, 105]"));
        Assert.That(() => device.ConvTranspose2d(G, x, w, y), Throws.TypeOf<ShapeException>().With.Message.StartsWith("conv-transpose2d: input must be [batch, 48]"));
        Assert.That(() => device.Conv2dBackwardWeight(G, x, wrongY, w), Throws.TypeOf<ShapeException>().With.Message.StartsWith("conv2d-backward-weight: gradOutput must be [2, 48]"));
        Assert.That(() => device.Conv2dBackwardWeight(G, x, y, wrongW), Throws.TypeOf<ShapeException>().With.Message.StartsWith("conv2d-backward-weight: gradWeight must be [4, 27]"));
        Assert.That(() => device.Conv2dBackwardBias(G, y, wrongB), Throws.TypeOf<ShapeException>().With.Message.StartsWith("conv2d-backward-bias: gradBias must be contiguous with 4"));
        var pool = new Pool2dGeometry(3, 5, 7, 2, 2);
        using var pooled = device.Allocate<float>(2, pool.OutputSize);
        Assert.That(() => device.AvgPool2d(pool, x, y), Throws.TypeOf<ShapeException>().With.Message.StartsWith("avg-pool2d: output must be [2, 18]"));
        Assert.That(() => device.AvgPool2dBackward(pool, pooled, wrongX), Throws.TypeOf<ShapeException>().With.Message.StartsWith("avg-pool2d-backward: gradInput must be [2, 105]"));
    }
}
