using OptEq.Kernels.Activations;

namespace OptEq.Autodiff;

/// <summary>a·b, for <see cref="ElementwiseExtensions.Map{T,TOp}"/>.</summary>
public readonly struct ProductOp<T> : IScalarMap<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Apply(T a, T b, T c, T d) => a * b;
}

/// <summary>a + b·c (a gradient contribution added to a buffer).</summary>
public readonly struct MultiplyAddOp<T> : IScalarMap<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Apply(T a, T b, T c, T d) => a + b * c;
}

public static partial class Ops
{
    public static Variable<T> Add<T>(Variable<T> a, Variable<T> b) where T : unmanaged, IFloatingPointIeee754<T> => Combine(a, T.One, b, T.One);
    public static Variable<T> Sub<T>(Variable<T> a, Variable<T> b) where T : unmanaged, IFloatingPointIeee754<T> => Combine(a, T.One, b, -T.One);

    /// <summary>α·a + β·b elementwise.</summary>
    public static Variable<T> Combine<T>(Variable<T> a, T alpha, Variable<T> b, T beta) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tape = TapeOf(a, b);
        SameShape("add", a, b);
        var value = tape.Rent(a.Shape);
        tape.Compute(() => tape.Device.Axpby(alpha, a.Value, beta, b.Value, value));
        var y = tape.Result(value, a, b);
        tape.Record(y, () =>
        {
            if (a.RequiresGrad) tape.Device.Axpby(alpha, y.GradBuffer, T.One, a.GradBuffer, a.GradBuffer);
            if (b.RequiresGrad) tape.Device.Axpby(beta, y.GradBuffer, T.One, b.GradBuffer, b.GradBuffer);
        });
        return y;
    }

    /// <summary>s·a.</summary>
    public static Variable<T> Scale<T>(Variable<T> a, T s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tape = a.Tape;
        var value = tape.Rent(a.Shape);
        tape.Compute(() => tape.Device.Axpby(s, a.Value, T.Zero, a.Value, value));
        var y = tape.Result(value, a);
        tape.Record(y, () => tape.Device.Axpby(s, y.GradBuffer, T.One, a.GradBuffer, a.GradBuffer));
        return y;
    }

    /// <summary>a ⊙ b elementwise.</summary>
    public static Variable<T> Mul<T>(Variable<T> a, Variable<T> b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tape = TapeOf(a, b);
        SameShape("mul", a, b);
        var device = tape.Device;
        var value = tape.Rent(a.Shape);
        tape.Compute(() => device.Map(new ProductOp<T>(), value, a.Value, b.Value));
        var y = tape.Result(value, a, b);
        tape.Record(y, () =>
        {
            if (a.RequiresGrad) device.Map(new MultiplyAddOp<T>(), a.GradBuffer, a.GradBuffer, y.GradBuffer, b.Value);
            if (b.RequiresGrad) device.Map(new MultiplyAddOp<T>(), b.GradBuffer, b.GradBuffer, y.GradBuffer, a.Value);
        });
        return y;
    }

    /// <summary>x[i, :] + bias for every row i.</summary>
    public static Variable<T> AddBias<T>(Variable<T> x, Variable<T> bias) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tape = TapeOf(x, bias);
        var device = tape.Device;
        var value = tape.Rent(x.Shape);
        tape.Compute(() => device.AddBias(x.Value, bias.Value, value));
        var y = tape.Result(value, x, bias);
        Tensor<T>? dyMatrix = null, dBiasRow = null; // views made on the first backward, reused on replays
        tape.Record(y, () =>
        {
            if (x.RequiresGrad) Accumulate(x.GradBuffer, y.GradBuffer);
            if (bias.RequiresGrad)
            {
                // Column sums of dy as one GEMM: ones[1, rows] · dy[rows, cols].
                int rows = y.Value.Rows;
                var ones = tape.Rent(1, rows);
                device.Fill(ones, T.One);
                dyMatrix ??= y.GradBuffer.Reshape(rows, -1);
                dBiasRow ??= bias.GradBuffer.Reshape(1, -1);
                device.Gemm(MatrixOp.None, MatrixOp.None, T.One, ones, dyMatrix, T.One, dBiasRow);
            }
        });
        return y;
    }

    /// <summary>σ(x) for a proximal activation; σ′(x) is kept from the same pass for backward.</summary>
    public static Variable<T> Activate<T>(Variable<T> x, Activation activation) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tape = x.Tape;
        var device = tape.Device;
        var value = tape.Rent(x.Shape);
        var derivative = x.RequiresGrad && tape.IsRecording ? tape.Rent(x.Shape) : null;
        tape.Compute(() => device.Prox(activation, x.Value, value, derivative));
        var y = tape.Result(value, x);
        tape.Record(y, () => device.Map(new MultiplyAddOp<T>(), x.GradBuffer, x.GradBuffer, y.GradBuffer, derivative!));
        return y;
    }
}
