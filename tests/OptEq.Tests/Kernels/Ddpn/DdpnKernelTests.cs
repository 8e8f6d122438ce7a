using System.Numerics;
using NUnit.Framework;
using OptEq.Kernels;
using OptEq.Kernels.Reference;
using static OptEq.Tests.Kernels.KernelAssert;

namespace OptEq.Tests.Kernels;

[TestFixtureSource(typeof(KernelBackends), nameof(KernelBackends.All))]
public sealed class DdpnKernelTests(string backend) : KernelTestsBase(backend)
{
    // Both kernels sum cols products per row in any order, then add a few terms: |r − r_ref| ≤ 16·u·(√cols + 4)·(the
    // same expression with every term replaced by its magnitude), as for the row reductions.

    [Test]
    public void RankOneCorrectionMatchesReference(
        [Values] Precision precision, [Values("1x1", "3x7", "5x33", "2x300")] string shape, [Values] bool withA, [Values] bool withD, [Values(0.0, 0.05)] double bound)
    {
        var s = shape.Split('x').Select(int.Parse).ToArray();
        Run(precision, () => CheckCorrection<float>(s[0], s[1], withA, withD, bound), () => CheckCorrection<double>(s[0], s[1], withA, withD, bound));
    }

    [Test]
    public void ValueFactorMatchesReferenceAndClampsAtZero([Values] Precision precision, [Values("1x1", "3x7", "6x33", "2x300")] string shape)
    {
        var s = shape.Split('x').Select(int.Parse).ToArray();
        Run(precision, () => CheckFactor<float>(s[0], s[1]), () => CheckFactor<double>(s[0], s[1]));
    }

    [Test]
    public void KroneckerValueFactorMatchesReferenceAndClampsAtZero([Values] Precision precision, [Values("1x1x1", "3x7x4", "5x33x9", "2x5x300")] string shape)
    {
        var s = shape.Split('x').Select(int.Parse).ToArray();
        Run(precision, () => CheckKroneckerFactor<float>(s[0], s[1], s[2]), () => CheckKroneckerFactor<double>(s[0], s[1], s[2]));
    }

    private void CheckKroneckerFactor<T>(int rows, int hcols, int xcols) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var h = Random(rows * hcols, 37, -1, 1);
        var hg = Random(rows * hcols, 38, -1, 1);
        var x = Random(rows * xcols, 39, -1, 1);
        var xa = Random(rows * xcols, 40, -1, 1);
        // Row 0: both quadratic forms positive and large, so 1 − scale·⟨h, hg⟩·⟨x, xa⟩ < 0: the factor clamps to zero.
        h[0] = x[0] = 1;
        for (int j = 0; j < hcols; j++) hg[j] = 4 * h[j];
        for (int j = 0; j < xcols; j++) xa[j] = 4 * x[j];
        double scale = 0.5;
        using var H = new Strided<T>(Device, h, 1, rows, hcols);
        using var HG = new Strided<T>(Device, hg, 2, rows, hcols);
        using var X = new Strided<T>(Device, x, 0, rows, xcols);
        using var XA = new Strided<T>(Device, xa, 3, rows, xcols);
        using var result = Device.FromArray(To<T>(Enumerable.Repeat(double.NaN, rows).ToArray()), rows);
        Device.DdpnKroneckerValueFactor(H.View, HG.View, X.View, XA.View, T.CreateChecked(scale), result);

        var expected = ReferenceKernels.DdpnKroneckerValueFactor(rows, hcols, h, hg, xcols, x, xa, scale);
        Assert.That(expected[0], Is.Zero, "the test's row 0 is past the clamp");
        var actual = result.ToArray();
        for (int i = 0; i < rows; i++)
        {
            // s = scale·sh·sx with sums of magnitudes mh, mx: |δs| ≤ 16·u·(√n + 4)·scale·mh·mx; |√a − √b| ≤ |a − b| / √b.
            double mh = 0, mx = 0;
            for (int j = 0; j < hcols; j++) mh += Math.Abs(h[i * hcols + j] * hg[i * hcols + j]);
            for (int j = 0; j < xcols; j++) mx += Math.Abs(x[i * xcols + j] * xa[i * xcols + j]);
            double ds = 16 * Unit<T>() * (Math.Sqrt(hcols + xcols) + 4) * scale * mh * mx;
            if (expected[i] == 0)
                Assert.That(double.CreateChecked(actual[i]), Is.LessThanOrEqualTo(Math.Sqrt(ds) + 4 * Unit<T>()), $"row {i} clamps");
            else
                Assert.That(double.CreateChecked(actual[i]), Is.EqualTo(expected[i]).Within(ds / expected[i] + 4 * Unit<T>()),
                    $"ddpn-kronecker-value-factor<{typeof(T).Name}> row {i} of {rows}×({hcols}, {xcols})");
        }
    }

    private void CheckCorrection<T>(int rows, int cols, bool withA, bool withD, double bound) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var a = Random(rows * cols, 31, -2, 2);
        var h = Random(rows * cols, 32, -1, 1);
        var r = Random(rows * cols, 33, -3, 3);
        var d = Random(rows * cols, 34, 0, 1);
        const double epsilon = 0.375;
        using var A = new Strided<T>(Device, a, 1, rows, cols);
        using var H = new Strided<T>(Device, h, 2, rows, cols);
        using var R = new Strided<T>(Device, r, 0, rows, cols);
        using var D = new Strided<T>(Device, d, 3, rows, cols);
        using var result = new Strided<T>(Device, Enumerable.Repeat(double.NaN, rows * cols).ToArray(), 1, rows, cols);
        Device.DdpnRankOneCorrection(withA ? A.View : null, H.View, R.View, withD ? D.View : null, T.CreateChecked(epsilon), result.View, T.CreateChecked(bound));

        var expected = ReferenceKernels.DdpnRankOneCorrection(rows, cols, withA ? a : null, h, r, withD ? d : null, epsilon, bound);
        if (withA && bound > 0)
        {
            // The bound ‖result − a‖ ≤ ρ‖a‖ per row holds in the reference, and with the test's data (|h·⟨h, r⟩| ≫ |a|) it acts.
            var unbounded = ReferenceKernels.DdpnRankOneCorrection(rows, cols, a, h, r, withD ? d : null, epsilon);
            for (int i = 0; i < rows; i++)
            {
                double an = 0, cn = 0, un = 0;
                for (int j = 0; j < cols; j++) { int k = i * cols + j; an += a[k] * a[k]; cn += (expected[k] - a[k]) * (expected[k] - a[k]); un += (unbounded[k] - a[k]) * (unbounded[k] - a[k]); }
                Assert.That(Math.Sqrt(cn), Is.LessThanOrEqualTo(bound * Math.Sqrt(an) * (1 + 1e-12)), $"row {i}: the reference keeps the bound");
                if (cols > 1 && Math.Sqrt(un) > 2 * bound * Math.Sqrt(an)) Assert.That(Math.Sqrt(cn), Is.EqualTo(bound * Math.Sqrt(an)).Within(1e-9 * Math.Sqrt(an)), $"row {i}: the bound acts");
            }
        }
        var magnitude = ReferenceKernels.DdpnRankOneCorrection(rows, cols, withA ? a.Select(Math.Abs).ToArray() : null, h.Select(Math.Abs).ToArray(),
            r.Select(Math.Abs).ToArray(), withD ? d : null, epsilon);
        Close(expected, result.Values, 16 * Unit<T>() * (Math.Sqrt(cols) + 4), i => magnitude[i], $"ddpn-rank-one-correction<{typeof(T).Name}> {rows}×{cols} a {withA} d {withD}");
        Assert.That(result.Padding(), Is.All.EqualTo(T.CreateChecked(Strided<T>.Sentinel)), "padding untouched");
    }

    private void CheckFactor<T>(int rows, int cols) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var h = Random(rows * cols, 35, -1, 1);
        var p = Random(rows * cols, 36, 0, 0.75 / cols);
        // Row 0 is scaled so that Σ h²p > 1: the factor clamps to zero there.
        for (int j = 0; j < cols; j++) p[j] = 4.0 / cols;
        for (int j = 0; j < cols; j++) h[j] = 1;
        using var H = new Strided<T>(Device, h, 1, rows, cols);
        using var P = new Strided<T>(Device, p, 2, rows, cols);
        using var result = Device.FromArray(To<T>(Enumerable.Repeat(double.NaN, rows).ToArray()), rows);
        Device.DdpnValueFactor(H.View, P.View, result);

        var expected = ReferenceKernels.DdpnValueFactor(rows, cols, h, p);
        Assert.That(expected[0], Is.Zero, "the test's row 0 is past the clamp");
        var actual = result.ToArray();
        for (int i = 0; i < rows; i++)
        {
            // √(1 − s): an error δ in s moves the root by δ / (2√(1 − s)); rows here keep 1 − s ≥ 0.25 or clamp.
            double sum = 0;
            for (int j = 0; j < cols; j++) sum += h[i * cols + j] * h[i * cols + j] * p[i * cols + j];
            double bound = expected[i] == 0 ? 0 : 16 * Unit<T>() * (Math.Sqrt(cols) + 4) * (sum + 1) / expected[i];
            Assert.That(double.CreateChecked(actual[i]), Is.EqualTo(expected[i]).Within(bound + 4 * Unit<T>()), $"ddpn-value-factor<{typeof(T).Name}> row {i} of {rows}×{cols}");
        }
    }
}
