namespace OptEq.Autodiff;

public static partial class Ops
{
    /// <summary>op(a)·op(b) for matrices; transA / transB use the transposes without forming them.</summary>
    public static Variable<T> MatMul<T>(Variable<T> a, Variable<T> b, bool transA = false, bool transB = false) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tape = TapeOf(a, b);
        if (a.Value.Rank != 2 || b.Value.Rank != 2)
            throw new ShapeException($"matmul: needs matrices, got [{string.Join(", ", a.Shape)}] and [{string.Join(", ", b.Shape)}]");
        int m = transA ? a.Shape[1] : a.Shape[0], n = transB ? b.Shape[0] : b.Shape[1];
        var device = tape.Device;
        var opA = transA ? MatrixOp.Transpose : MatrixOp.None;
        var opB = transB ? MatrixOp.Transpose : MatrixOp.None;
        var value = tape.Rent(m, n);
        tape.Compute(() => device.Gemm(opA, opB, T.One, a.Value, b.Value, T.Zero, value)); // validates the inner dimension
        var y = tape.Result(value, a, b);
        tape.Record(y, () =>
        {
            var dy = y.GradBuffer;
            // C = op(A)·op(B). dA: dC·op(B)ᵀ, transposed back when A was used transposed; likewise dB.
            if (a.RequiresGrad)
            {
                if (!transA) device.Gemm(MatrixOp.None, transB ? MatrixOp.None : MatrixOp.Transpose, T.One, dy, b.Value, T.One, a.GradBuffer);
                else device.Gemm(transB ? MatrixOp.Transpose : MatrixOp.None, MatrixOp.Transpose, T.One, b.Value, dy, T.One, a.GradBuffer);
            }
            if (b.RequiresGrad)
            {
                if (!transB) device.Gemm(transA ? MatrixOp.None : MatrixOp.Transpose, MatrixOp.None, T.One, a.Value, dy, T.One, b.GradBuffer);
                else device.Gemm(MatrixOp.Transpose, transA ? MatrixOp.Transpose : MatrixOp.None, T.One, dy, a.Value, T.One, b.GradBuffer);
            }
        });
        return y;
    }

    /// <summary>x·Wᵀ + b: the affine map of a layer with W stored [out, in] (as PyTorch does).</summary>
    public static Variable<T> Affine<T>(Variable<T> x, Variable<T> weight, Variable<T>? bias) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var y = MatMul(x, weight, transB: true);
        return bias is null ? y : AddBias(y, bias);
    }
}
