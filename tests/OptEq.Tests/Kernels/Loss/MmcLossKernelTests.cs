using System.Numerics;
using NUnit.Framework;
using OptEq.Autodiff.Losses;
using OptEq.Kernels;
using OptEq.Kernels.Reference;
using static OptEq.Tests.Kernels.KernelAssert;

namespace OptEq.Tests.Kernels;

/// <summary>The MMC loss kernel (docs/math.md §7.9) against its float64 reference on every backend.</summary>
[TestFixtureSource(typeof(KernelBackends), nameof(KernelBackends.All))]
public sealed class MmcLossKernelTests(string backend) : KernelTestsBase(backend)
{
    // Tolerance, absolute: 8·u·(cols + 1)·(max|f| + C)² for the loss (a sum of cols squares of differences, each rounded),
    // and 4·u·|scale|·(max|f| + C) for each gradient element (one difference, one product).

    [TestCase(6, 10, 10, 10.0, TestName = "MmcLoss(6×10, 10 classes, C = 10)")]
    [TestCase(4, 300, 7, 3.0, TestName = "MmcLoss(4×300, 7 centres, longer than a group)")]
    [TestCase(5, 3, 3, 1.0, TestName = "MmcLoss(5×3, 3 classes)")]
    [TestCase(1, 2, 2, 10.0, TestName = "MmcLoss(1×2, 2 classes)")]
    public void MmcLoss(int rows, int cols, int classes, double norm)
    {
        Check<float>(rows, cols, classes, norm, withGradient: true);
        Check<double>(rows, cols, classes, norm, withGradient: true);
    }

    [Test]
    public void MmcLossOnly([Values] Precision precision)
        => Run(precision, () => Check<float>(9, 12, 12, 10, withGradient: false), () => Check<double>(9, 12, 12, 10, withGradient: false));

    [Test]
    public void MmcLossInvalidLabelGivesNaNLossAndGradientRow([Values] Precision precision)
        => Run(precision, CheckInvalidLabels<float>, CheckInvalidLabels<double>);

    [Test]
    public void CentresOfAnotherWidthAndShortLabelsAreRejected()
    {
        using var features = Device.Allocate<float>(3, 4);
        using var centres = Device.Allocate<float>(4, 3);
        using var labels = Device.Allocate<int>(3);
        using var shortLabels = Device.Allocate<int>(2);
        using var loss = Device.Allocate<float>(3);
        Assert.That(() => Device.MmcLoss(features, labels, centres, loss, null, 1f),
            Throws.TypeOf<ShapeException>().With.Message.Contains("centres [4, 3] must have as many columns as the features [3, 4]"));
        using var centres4 = Device.Allocate<float>(4, 4);
        Assert.That(() => Device.MmcLoss(features, shortLabels, centres4, loss, null, 1f),
            Throws.TypeOf<ShapeException>().With.Message.Contains("labels must be contiguous with 3 elements"));
    }

    private void Check<T>(int rows, int cols, int classes, double norm, bool withGradient) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var f = Random(rows * cols, 41, -8, 8);
        // The centres rounded to T first, so that both sides see the same values.
        var centres = To<T>(MaxMahalanobisCentres.Build(classes, cols, norm)).Select(v => double.CreateChecked(v)).ToArray();
        var labels = Enumerable.Range(0, rows).Select(i => (i * 7 + 3) % classes).ToArray();
        double scale = 0.25;
        using var F = new Strided<T>(Device, f, 3, rows, cols);
        using var M = new Strided<T>(Device, centres, 1, classes, cols);
        using var L = Device.FromArray(labels, rows);
        using var loss = Device.Allocate<T>(rows);
        using var grad = new Strided<T>(Device, new double[rows * cols], 2, rows, cols);
        Device.MmcLoss(F.View, L, M.View, loss, withGradient ? grad.View : null, T.CreateChecked(scale));

        var (eLoss, eGrad) = ReferenceKernels.MmcLoss(rows, cols, classes, f, labels, centres, scale);
        double size = f.Max(Math.Abs) + norm;
        string what = $"mmc-loss<{typeof(T).Name}> {rows}×{cols}, {classes} centres of norm {norm}";
        Close(eLoss, loss.ToArray(), 8 * Unit<T>() * (cols + 1) * size * size, _ => 1, what + " loss");
        if (withGradient)
        {
            Close(eGrad, grad.Values, 4 * Unit<T>() * size, _ => scale, what + " gradient");
            grad.AssertPaddingUntouched(what);
        }
        else Assert.That(grad.Values, Is.All.EqualTo(T.Zero), what + ": gradient written though not asked for");
        F.AssertPaddingUntouched(what + " (features)");
    }

    private void CheckInvalidLabels<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        int rows = 4, cols = 5;
        var f = Random(rows * cols, 42);
        var centres = MaxMahalanobisCentres.Build(cols, cols, 2);
        int[] labels = [2, -1, 5, 0];
        using var F = Device.FromArray(To<T>(f), rows, cols);
        using var M = Device.FromArray(To<T>(centres), cols, cols);
        using var L = Device.FromArray(labels, rows);
        using var loss = Device.Allocate<T>(rows);
        using var grad = Device.Allocate<T>(rows, cols);
        Device.MmcLoss(F, L, M, loss, grad, T.One);

        var (eLoss, eGrad) = ReferenceKernels.MmcLoss(rows, cols, cols, f, labels, To<T>(centres).Select(v => double.CreateChecked(v)).ToArray(), 1);
        Assert.That(eLoss.Select(double.IsNaN), Is.EqualTo(new[] { false, true, true, false }), "reference: NaN loss exactly for labels −1 and 5");
        Assert.That(eGrad[(1 * cols)..(3 * cols)], Is.All.NaN, "reference: NaN gradient rows for labels −1 and 5");
        double bound = 8 * Unit<T>() * (cols + 1) * 9;
        Close(eLoss, loss.ToArray(), bound, _ => 1, "mmc-loss with invalid labels: loss");
        Close(eGrad, grad.ToArray(), bound, _ => 1, "mmc-loss with invalid labels: gradient");
    }
}
