using System.Numerics;
using NUnit.Framework;
using OptEq.Kernels;
using static OptEq.Tests.Kernels.KernelAssert;

namespace OptEq.Tests.Kernels;

/// <summary>(a, b, c) ← (a + d, b·d, c − a·d): each output depends on its own input, d, and (for c) another input's old value.</summary>
public readonly struct TestUpdate<T> : IScalarUpdate<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public Triple<T> Apply(T a, T b, T c, T d) => new(a + d, b * d, c - a * d);
}

[TestFixtureSource(typeof(KernelBackends), nameof(KernelBackends.All))]
public sealed class UpdateInPlaceKernelTests(string backend) : KernelTestsBase(backend)
{
    // Tolerance: each output is one or two roundings of T (4·u relative to the magnitudes involved).

    [Test]
    public void UpdateInPlaceMatchesReference([Values] Precision precision, [Values("1x1", "13x37", "70x300")] string shape)
    {
        var s = shape.Split('x').Select(int.Parse).ToArray();
        Run(precision, () => CheckUpdateInPlace<float>(s[0], s[1]), () => CheckUpdateInPlace<double>(s[0], s[1]));
    }

    [Test]
    public void UpdateInPlaceRejectsOverlapAndShapes()
    {
        using var a = Device.Allocate<float>(4, 5);
        using var b = Device.Allocate<float>(4, 5);
        using var c = Device.Allocate<float>(4, 5);
        using var wrong = Device.Allocate<float>(5, 4);
        Assert.That(() => Device.UpdateInPlace(new TestUpdate<float>(), a, a, c, b), Throws.ArgumentException.With.Message.Contains("overlaps"));
        Assert.That(() => Device.UpdateInPlace(new TestUpdate<float>(), a, b, c, wrong), Throws.TypeOf<ShapeException>());
    }

    private void CheckUpdateInPlace<T>(int rows, int cols) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var a = Random(rows * cols, rows + 1); var b = Random(rows * cols, rows + 2);
        var c = Random(rows * cols, rows + 3); var d = Random(rows * cols, rows + 4);
        using var A = new Strided<T>(Device, a, 2, rows, cols);
        using var B = new Strided<T>(Device, b, 0, rows, cols);
        using var C = new Strided<T>(Device, c, 1, rows, cols);
        using var D = new Strided<T>(Device, d, 3, rows, cols);
        Device.UpdateInPlace(new TestUpdate<T>(), A.View, B.View, C.View, D.View);
        string what = $"update-in-place<{typeof(T).Name}> {rows}×{cols}";
        double tol = 4 * Unit<T>();
        var ea = a.Select((x, i) => x + d[i]).ToArray();
        var eb = b.Select((x, i) => x * d[i]).ToArray();
        var ec = c.Select((x, i) => x - a[i] * d[i]).ToArray();
        Close(ea, A.Values, tol, i => Math.Abs(a[i]) + Math.Abs(d[i]), what + " a");
        Close(eb, B.Values, tol, i => Math.Abs(eb[i]), what + " b");
        Close(ec, C.Values, tol, i => Math.Abs(c[i]) + Math.Abs(a[i] * d[i]), what + " c");
        Assert.That(D.Values, Is.EqualTo(To<T>(d)), what + ": d was written");
        A.AssertPaddingUntouched(what);
        C.AssertPaddingUntouched(what);
    }
}
