using NUnit.Framework;
using OptEq.Kernels;
using OptEq.Kernels.Activations;

namespace OptEq.Tests.Kernels;

[TestFixtureSource(typeof(KernelBackends), nameof(KernelBackends.All))]
public sealed class KernelValidationTests(string backend) : KernelTestsBase(backend)
{
    // Bad shapes are rejected by Device before any backend code runs: each test checks the message names the problem
    // and that the output tensor still holds what it held (no kernel wrote to it).

    private static readonly float[] Marker = [42, 42, 42, 42, 42, 42];

    private void AssertRejected(Action call, string messagePart, Tensor<float> output)
    {
        var before = output.ToArray();
        Assert.That(() => call(), Throws.TypeOf<ShapeException>().With.Message.Contains(messagePart));
        Assert.That(output.ToArray(), Is.EqualTo(before), "the output changed, so a kernel ran");
    }

    [Test]
    public void GemmInnerDimensionMismatchIsRejected()
    {
        using var a = Device.Allocate<float>(2, 3);
        using var b = Device.Allocate<float>(4, 3);
        using var c = Device.FromArray<float>(Marker, 2, 3);
        AssertRejected(() => Device.Gemm(MatrixOp.None, MatrixOp.None, 1f, a, b, 0f, c), "need op(A) m×k, op(B) k×n, C m×n", c);
        // With B transposed the shapes fit only if C is 2×4.
        AssertRejected(() => Device.Gemm(MatrixOp.None, MatrixOp.Transpose, 1f, a, b, 0f, c), "C is 2×3", c);
    }

    [Test]
    public void GemmBatchMismatchIsRejected()
    {
        using var a = Device.Allocate<float>(3, 2, 3);
        using var b = Device.Allocate<float>(3, 1);
        using var c = Device.FromArray<float>(Marker, 2, 3, 1);
        AssertRejected(() => Device.Gemm(MatrixOp.None, MatrixOp.None, 1f, a, b, 0f, c), "A has batch 3, C has batch 2", c);
        using var c2 = Device.FromArray<float>(Marker, 2, 3);
        AssertRejected(() => Device.Gemm(MatrixOp.None, MatrixOp.None, 1f, a, b, 0f, c2), "A must have rank 2", c2);
    }

    [Test]
    public void AddBiasOfWrongLengthIsRejected()
    {
        using var x = Device.Allocate<float>(2, 3);
        using var bias = Device.Allocate<float>(2);
        using var y = Device.FromArray<float>(Marker, 2, 3);
        AssertRejected(() => Device.AddBias(x, bias, y), "bias must be contiguous with 3 elements", y);
    }

    [Test]
    public void MismatchedShapesAreRejected()
    {
        using var x = Device.Allocate<float>(2, 3);
        using var y = Device.Allocate<float>(3, 2);
        using var r = Device.FromArray<float>(Marker, 2, 3);
        AssertRejected(() => Device.Axpby(1f, x, 1f, y, r), "axpby: shapes differ, [2, 3] and [3, 2]", r);
        using var v = Device.Allocate<float>(6);
        AssertRejected(() => Device.Prox(Activation.Tanh, v, r), "prox: shapes differ, [6] and [2, 3]", r);
        AssertRejected(() => Device.Copy(y, r), "copy: shapes differ", r);
    }

    [Test]
    public void BatchedSolveOfNonSquareSystemsIsRejected()
    {
        using var a = Device.Allocate<float>(2, 3, 2);
        using var b = Device.FromArray<float>(Marker, 2, 3);
        using var status = Device.Allocate<int>(2);
        AssertRejected(() => Device.BatchedSolve(a, b, b, status), "A must be a contiguous [batch, n, n] tensor, got [2, 3, 2]", b);
        using var square = Device.Allocate<float>(2, 3, 3);
        using var shortB = Device.FromArray<float>(Marker, 3, 2);
        AssertRejected(() => Device.BatchedSolve(square, shortB, shortB, status), "b must be a contiguous [2, 3] tensor", shortB);
    }

    [Test]
    public void LabelsOfWrongLengthAreRejected()
    {
        using var logits = Device.Allocate<float>(3, 2);
        using var labels = Device.Allocate<int>(2);
        using var loss = Device.FromArray<float>(Marker[..3], 3);
        AssertRejected(() => Device.SoftmaxCrossEntropy(logits, labels, loss, null, 1f), "labels must be contiguous with 3 elements", loss);
    }

    [Test]
    public void RowReduceResultOfWrongLengthIsRejected()
    {
        using var x = Device.Allocate<float>(3, 2);
        using var result = Device.FromArray<float>(Marker[..2], 2);
        AssertRejected(() => Device.RowReduce(RowReduction.SquaredNorm, x, null, result), "result must be contiguous with 3 elements", result);
    }
}
