using NUnit.Framework;
using OptEq.Autodiff;
using OptEq.Kernels;
using OptEq.Kernels.Native;
using OptEq.Solvers.Operators;
using OptEq.Tests.Kernels;

namespace OptEq.Tests.Conv;

/// <summary>
/// The Fourier-domain WᵀW as an operator (docs/math.md §1.7): its exact norm against the power iteration the conv-opteq
/// layer uses and against the unrolled operator's singular values, the explicit refresh after a weight rewrite, the
/// cache-blocked two-convolution variant, refusals of non-circulant geometry and bad shapes, and no allocation in the
/// steady state of the native entries.
/// </summary>
public class FourierGramOperatorTests
{
    private NativeCpuDevice _device = null!;

    [OneTimeSetUp] public void Open() => _device = new NativeCpuDevice();
    [OneTimeTearDown] public void Close() => _device.Dispose();

    private Tensor<double> Random(int seed, params int[] shape)
    {
        var rng = new Random(seed);
        long n = 1;
        foreach (var s in shape) n *= s;
        return _device.FromArray(Enumerable.Range(0, (int)n).Select(_ => rng.NextDouble() - 0.5).ToArray(), shape);
    }

    [Test]
    public void ExactNormAgreesWithThePowerIterationAndTheUnrolledOperator()
    {
        var g = new Conv2dGeometry(3, 5, 6, 4, 3, 3, 1, 1, ConvPadding.Circular);
        using var v = Random(31, g.OutChannels, g.WeightColumns);
        using var fourier = new FourierGramOperator<double>(new Conv2dOperator<double>(g, v), 1);
        using var norm = _device.Allocate<double>(1);
        fourier.OperatorNorm(norm);
        double exact = norm.ToArray()[0];

        double unrolled = ConvEquilibriumTests.ExactNorm(ConvEquilibriumTests.Unroll(new Conv2dOperator<double>(g, v), _device));
        Assert.That(exact, Is.EqualTo(unrolled).Within(1e-10 * unrolled), "max over frequencies of σ_max(Ŵ) is the largest singular value of the unrolled W");

        using var power = new OperatorPowerIterationState<double>(_device, g.InputSize, g.OutputSize, 7) { StepsPerForward = 5000 };
        using var tape = Tape<double>.NoGrad(_device);
        Ops.ScaleToOperatorNorm([tape.Constant(v)], new Conv2dOperator<double>(g, v), 0.9, power);
        Assert.That(power.Sigma, Is.LessThanOrEqualTo(exact * (1 + 1e-12)), "the power estimate (a Rayleigh quotient) never exceeds the exact norm");
        Assert.That(power.Sigma, Is.EqualTo(exact).Within(1e-5 * exact), "and converges to it");
    }

    [Test]
    public void TheSpectrumFollowsTheWeightOnlyAfterRefresh()
    {
        var g = new Conv2dGeometry(2, 4, 5, 3, 3, 3, 1, 1, ConvPadding.Circular);
        using var w = Random(32, g.OutChannels, g.WeightColumns);
        using var x = Random(33, 3, g.InputSize);
        using var convs = new GramOperator<double>(new Conv2dOperator<double>(g, w), 3);
        using var fourier = new FourierGramOperator<double>(new Conv2dOperator<double>(g, w), 3);
        using var expected = _device.Allocate<double>(3, g.InputSize);
        using var actual = _device.Allocate<double>(3, g.InputSize);
        convs.Apply(x, expected, 0);
        _device.Axpby(2.0, w, 0.0, w, w); // the layer rescales W: K becomes 4·K
        fourier.Apply(x, actual, 0);
        Assert.That(actual.ToArray(), Is.EqualTo(expected.ToArray()).Within(1e-12), "before Refresh the spectrum is the old W's");
        fourier.Refresh();
        fourier.Apply(x, actual, 0);
        Assert.That(actual.ToArray(), Is.EqualTo(expected.ToArray().Select(e => 4 * e).ToArray()).Within(1e-11), "after Refresh, (2W)ᵀ(2W) = 4·WᵀW");
        var root = fourier.ApplyRoot(x).ToArray();
        var direct = convs.ApplyRoot(x).ToArray(); // the old W's W·x, computed on the same (now rescaled) weight: both read it live
        Assert.That(root, Is.EqualTo(direct).Within(1e-12), "ApplyRoot is the plain convolution on the current weight");
    }

    [Test]
    public void TheBlockedTwoConvolutionsAreTheGramOperator([Values(1, 2, 3, 7)] int rowsPerBlock)
    {
        var g = new Conv2dGeometry(3, 5, 5, 4, 3, 3, 1, 1, ConvPadding.Circular);
        using var w = Random(34, g.OutChannels, g.WeightColumns);
        using var x = Random(35, 7, g.InputSize);
        using var y0 = Random(36, 7, g.InputSize);
        using var expected = _device.Allocate<double>(7, g.InputSize);
        using var actual = _device.Allocate<double>(7, g.InputSize);
        expected.CopyFrom(y0); actual.CopyFrom(y0);
        using var convs = new GramOperator<double>(new Conv2dOperator<double>(g, w), 7);
        using var blocked = new BlockedGramOperator<double>(new Conv2dOperator<double>(g, w), 7, rowsPerBlock);
        convs.Apply(x, expected, 0.5);
        blocked.Apply(x, actual, 0.5);
        Assert.That(actual.ToArray(), Is.EqualTo(expected.ToArray()), "rows never mix: blocking changes nothing");
        Assert.That(BlockedGramOperator<float>.RowsThatFit(32 * 14 * 14, 2), Is.EqualTo(20), "32×14×14 float rows: 10 per core in 256 KiB");
    }

    [Test]
    public void NonCirculantGeometryAndBadShapesAreRefusedWithAReason()
    {
        using var w = _device.Allocate<float>(4, 27);
        var strided = new Conv2dGeometry(3, 6, 6, 4, 3, 3, Stride: 2, Padding: 1, PaddingMode: ConvPadding.Circular);
        var zero = new Conv2dGeometry(3, 6, 6, 4, 3, 3, Stride: 1, Padding: 1, PaddingMode: ConvPadding.Zero);
        var shrinking = new Conv2dGeometry(3, 6, 6, 4, 3, 3, Stride: 1, Padding: 0, PaddingMode: ConvPadding.Circular);
        var g = new Conv2dGeometry(3, 6, 5, 4, 3, 3, Stride: 1, Padding: 1, PaddingMode: ConvPadding.Circular);
        using var s = _device.Allocate<float>(CircularConvSpectrumExtensions.SpectrumShape(g));
        Assert.That(() => _device.CircularGramSpectrum(strided, w, s), Throws.TypeOf<ShapeException>().With.Message.StartsWith("circular-gram-spectrum: stride 2 is not circulant"));
        Assert.That(() => _device.CircularGramSpectrum(zero, w, s), Throws.TypeOf<ShapeException>().With.Message.StartsWith("circular-gram-spectrum: zero padding is not circulant"));
        Assert.That(() => _device.CircularGramSpectrum(shrinking, w, s), Throws.TypeOf<ShapeException>().With.Message.Contains("differs from the 6×6 input, so the convolution is not circulant"));
        Assert.That(() => new FourierGramOperator<float>(new Conv2dOperator<float>(zero, w), 2), Throws.TypeOf<ShapeException>().With.Message.StartsWith("fourier gram operator: zero padding is not circulant"));

        Assert.That(g.Width / 2 + 1, Is.EqualTo(3));
        Assert.That(s.Shape, Is.EqualTo(new[] { 18, 6, 6 }), "H·(W/2 + 1) frequencies of 2C × 2C");
        using var wrongW = _device.Allocate<float>(4, 26);
        using var wrongS = _device.Allocate<float>(18, 6, 5);
        using var x = _device.Allocate<float>(2, g.InputSize);
        using var y = _device.Allocate<float>(2, g.InputSize);
        using var wrongY = _device.Allocate<float>(3, g.InputSize);
        using var norm = _device.Allocate<float>(2);
        Assert.That(() => _device.CircularGramSpectrum(g, wrongW, s), Throws.TypeOf<ShapeException>().With.Message.StartsWith("circular-gram-spectrum: weight must be [4, 27]"));
        Assert.That(() => _device.CircularGramSpectrum(g, w, wrongS), Throws.TypeOf<ShapeException>().With.Message.StartsWith("circular-gram-spectrum: spectrum must be a contiguous [18, 6, 6] tensor"));
        Assert.That(() => _device.CircularGramApply(g, s, x, wrongY), Throws.TypeOf<ShapeException>().With.Message.StartsWith("circular-gram-apply: result must be [2, 90]"));
        Assert.That(() => _device.CircularGramApply(g, s, x, x), Throws.ArgumentException.With.Message.Contains("overlaps v"));
        Assert.That(() => _device.CircularConvNorm(g, s, norm), Throws.TypeOf<ShapeException>().With.Message.StartsWith("circular-conv-norm: norm must be contiguous with 1"));
    }

    [Test]
    public void SteadyStateNativeCallsAllocateNothing([Values(1, 8)] int batch)
    {
        var g = new Conv2dGeometry(6, 14, 14, 8, 3, 3, 1, 1, ConvPadding.Circular);
        using var w = _device.FromArray(Enumerable.Range(0, g.OutChannels * g.WeightColumns).Select(i => MathF.Cos(i)).ToArray(), g.OutChannels, g.WeightColumns);
        using var x = _device.FromArray(Enumerable.Range(0, batch * g.InputSize).Select(i => MathF.Sin(i)).ToArray(), batch, g.InputSize);
        using var y = _device.Allocate<float>(batch, g.InputSize);
        using var norm = _device.Allocate<float>(1);
        using var fourier = new FourierGramOperator<float>(new Conv2dOperator<float>(g, w), batch);
        using var blocked = new BlockedGramOperator<float>(new Conv2dOperator<float>(g, w), batch, 3);
        void Step()
        {
            fourier.Refresh();
            fourier.Apply(x, y, 0f);
            fourier.Apply(x, y, 0.5f);
            fourier.OperatorNorm(norm);
            blocked.Apply(x, y, 1f);
        }
        for (int i = 0; i < 3; i++) Step(); // the first calls fill the pool and size the GEMM's packing buffers
        SteadyStateAllocation.AssertNone(Step, 5, "Fourier-domain WᵀW, its refresh and norm, and the blocked two convolutions");
    }
}
