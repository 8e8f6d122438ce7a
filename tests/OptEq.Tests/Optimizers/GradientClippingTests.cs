using System.Numerics;
using NUnit.Framework;
using OptEq.Autodiff;
using OptEq.Autodiff.Optimizers;
using OptEq.Kernels.Native;

namespace OptEq.Tests.Optimizers;

public class GradientClippingTests
{
    /// <summary>Gradients (3, 4) and (12): global norm 13.</summary>
    private static (Parameter<T> A, Parameter<T> B) Make<T>(NativeCpuDevice device) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var a = new Parameter<T>("a", device.Allocate<T>(2));
        var b = new Parameter<T>("b", device.Allocate<T>(1, 1));
        a.Grad.CopyFrom(new[] { T.CreateChecked(3), T.CreateChecked(4) });
        b.Grad.CopyFrom(new[] { T.CreateChecked(12) });
        return (a, b);
    }

    [Test]
    public void ScalesToTheMaxNormAndReturnsTheNormBefore()
    {
        using var device = new NativeCpuDevice();
        var (a, b) = Make<double>(device);
        using var _a = a; using var _b = b;
        double norm = GradientClipping.ClipByGlobalNorm([a, b], 6.5);
        Assert.That(norm, Is.EqualTo(13.0).Within(1e-12));
        Assert.That(a.Grad.ToArray(), Is.EqualTo(new[] { 1.5, 2.0 }).Within(1e-12));
        Assert.That(b.Grad.ToArray(), Is.EqualTo(new[] { 6.0 }).Within(1e-12));
        Assert.That(GradientClipping.ClipByGlobalNorm([a, b], 100), Is.EqualTo(6.5).Within(1e-12), "the clipped global norm is maxNorm");
    }

    [Test]
    public void FloatGradientsAreClippedToo()
    {
        using var device = new NativeCpuDevice();
        var (a, b) = Make<float>(device);
        using var _a = a; using var _b = b;
        Assert.That(GradientClipping.ClipByGlobalNorm([a, b], 1.3), Is.EqualTo(13.0).Within(1e-5));
        Assert.That(a.Grad.ToArray().Concat(b.Grad.ToArray()), Is.EqualTo(new[] { 0.3f, 0.4f, 1.2f }).Within(1e-6f));
    }

    [TestCase(13.0)]
    [TestCase(20.0)]
    [TestCase(double.PositiveInfinity)]
    public void AtOrBelowTheMaxNormNothingChanges(double maxNorm)
    {
        using var device = new NativeCpuDevice();
        var (a, b) = Make<double>(device);
        using var _a = a; using var _b = b;
        Assert.That(GradientClipping.ClipByGlobalNorm([a, b], maxNorm), Is.EqualTo(13.0).Within(1e-12));
        Assert.That(a.Grad.ToArray(), Is.EqualTo(new[] { 3.0, 4.0 }));
        Assert.That(b.Grad.ToArray(), Is.EqualTo(new[] { 12.0 }));
    }

    [Test]
    public void NonFiniteNormIsReturnedAndGradientsAreLeftAlone()
    {
        using var device = new NativeCpuDevice();
        var (a, b) = Make<double>(device);
        using var _a = a; using var _b = b;
        b.Grad.CopyFrom(new[] { double.PositiveInfinity });
        Assert.That(GradientClipping.ClipByGlobalNorm([a, b], 1.0), Is.EqualTo(double.PositiveInfinity));
        Assert.That(a.Grad.ToArray(), Is.EqualTo(new[] { 3.0, 4.0 }));
    }

    [Test]
    public void NoParametersHaveNormZeroAndMaxNormIsChecked()
    {
        Assert.That(GradientClipping.ClipByGlobalNorm(Array.Empty<Parameter<double>>(), 1.0), Is.EqualTo(0.0));
        Assert.That(() => GradientClipping.ClipByGlobalNorm(Array.Empty<Parameter<double>>(), 0.0),
            Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("maxNorm"));
        Assert.That(() => GradientClipping.ClipByGlobalNorm(Array.Empty<Parameter<double>>(), double.NaN),
            Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("maxNorm"));
    }
}
