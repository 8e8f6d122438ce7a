using System.Numerics;
using NUnit.Framework;
using OptEq.Kernels;
using OptEq.Kernels.Reference;
using static OptEq.Tests.Kernels.KernelAssert;

namespace OptEq.Tests.Kernels;

[TestFixtureSource(typeof(KernelBackends), nameof(KernelBackends.All))]
public sealed class LossKernelTests(string backend) : KernelTestsBase(backend)
{
    // Tolerance, absolute: 16·u·(√cols + max|z|) for the loss and |scale| times that for each gradient element. The
    // loss is log Σ exp(z − max) + max − z[label]: the sum of exps rounds like any sum (√cols), and subtracting values
    // of size max|z| costs u·max|z| however well it is computed.

    [TestCase(6, 10, 0.0, TestName = "SoftmaxCrossEntropy(6×10)")]
    [TestCase(4, 300, 0.0, TestName = "SoftmaxCrossEntropy(4×300, longer than a group)")]
    [TestCase(5, 7, 1000.0, TestName = "SoftmaxCrossEntropy(5×7, logits near 1000: exp would overflow without the max)")]
    [TestCase(1, 1, 0.0, TestName = "SoftmaxCrossEntropy(1×1)")]
    public void SoftmaxCrossEntropy(int rows, int cols, double offset)
    {
        CheckSoftmaxCrossEntropy<float>(rows, cols, offset, withGradient: true);
        CheckSoftmaxCrossEntropy<double>(rows, cols, offset, withGradient: true);
    }

    [Test]
    public void SoftmaxCrossEntropyLossOnly([Values] Precision precision)
        => Run(precision, () => CheckSoftmaxCrossEntropy<float>(9, 12, 0, withGradient: false),
            () => CheckSoftmaxCrossEntropy<double>(9, 12, 0, withGradient: false));

    [Test]
    public void SoftmaxCrossEntropyInvalidLabelGivesNaNLossAndGradientRow([Values] Precision precision)
        => Run(precision, () => CheckInvalidLabels<float>(), () => CheckInvalidLabels<double>());

    private void CheckSoftmaxCrossEntropy<T>(int rows, int cols, double offset, bool withGradient) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var z = Random(rows * cols, 31, -8, 8).Select(v => v + offset).ToArray();
        var labels = Enumerable.Range(0, rows).Select(i => (i * 7 + 3) % cols).ToArray();
        double scale = 0.25;
        using var Z = new Strided<T>(Device, z, 3, rows, cols);
        using var L = Device.FromArray(labels, rows);
        using var loss = Device.Allocate<T>(rows);
        using var grad = new Strided<T>(Device, new double[rows * cols], 2, rows, cols);
        Device.SoftmaxCrossEntropy(Z.View, L, loss, withGradient ? grad.View : null, T.CreateChecked(scale));

        var (eLoss, eGrad) = ReferenceKernels.SoftmaxCrossEntropy(rows, cols, z, labels, scale);
        double bound = 16 * Unit<T>() * (Math.Sqrt(cols) + z.Max(Math.Abs));
        string what = $"softmax-cross-entropy<{typeof(T).Name}> {rows}×{cols} offset {offset}";
        Close(eLoss, loss.ToArray(), bound, _ => 1, what + " loss");
        if (withGradient)
        {
            Close(eGrad, grad.Values, bound, _ => scale, what + " gradient");
            grad.AssertPaddingUntouched(what);
        }
        else Assert.That(grad.Values, Is.All.EqualTo(T.Zero), what + ": gradient written though not asked for");
    }

    private void CheckInvalidLabels<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        int rows = 4, cols = 5;
        var z = Random(rows * cols, 32);
        int[] labels = [2, -1, 5, 0];
        using var Z = Device.FromArray(To<T>(z), rows, cols);
        using var L = Device.FromArray(labels, rows);
        using var loss = Device.Allocate<T>(rows);
        using var grad = Device.Allocate<T>(rows, cols);
        Device.SoftmaxCrossEntropy(Z, L, loss, grad, T.One);

        var (eLoss, eGrad) = ReferenceKernels.SoftmaxCrossEntropy(rows, cols, z, labels, 1);
        Assert.That(eLoss.Select(double.IsNaN), Is.EqualTo(new[] { false, true, true, false }), "reference: NaN loss exactly for labels −1 and 5");
        Assert.That(eGrad[(1 * cols)..(3 * cols)], Is.All.NaN, "reference: NaN gradient rows for labels −1 and 5");
        double bound = 16 * Unit<T>() * (Math.Sqrt(cols) + 1);
        Close(eLoss, loss.ToArray(), bound, _ => 1, "softmax-cross-entropy with invalid labels: loss");
        Close(eGrad, grad.ToArray(), bound, _ => 1, "softmax-cross-entropy with invalid labels: gradient");
    }
}
