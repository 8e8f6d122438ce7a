namespace OptEq.Autodiff;

public static partial class Ops
{
    /// <summary>
    /// y = conv(x, weight) + bias, NCHW rows: x [batch, g.InputSize], weight [out, in·kh·kw], bias [out] or null,
    /// y [batch, g.OutputSize]. Backward through the kernel family: dx += convᵀ(dy), dweight += Σ dy ⊗ patches, dbias += Σ dy.
    /// </summary>
    public static Variable<T> Conv2d<T>(Variable<T> x, Variable<T> weight, Variable<T>? bias, Conv2dGeometry geometry) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tape = TapeOf(x, weight);
        if (bias is not null) TapeOf(x, bias);
        if (x.Value.Rank != 2 || x.Shape[1] != geometry.InputSize)
            throw new ShapeException($"conv2d: the input must be [batch, {geometry.InputSize}] ({geometry.InChannels}×{geometry.Height}×{geometry.Width}), got [{string.Join(", ", x.Shape)}]");
        var device = tape.Device;
        var value = tape.Rent(x.Shape[0], geometry.OutputSize);
        tape.Compute(() => device.Conv2d(geometry, x.Value, weight.Value, bias?.Value, value));
        var y = bias is null ? tape.Result(value, x, weight) : tape.Result(value, x, weight, bias);
        tape.Record(y, () =>
        {
            var dy = y.GradBuffer;
            if (x.RequiresGrad) device.Conv2dBackwardInput(geometry, dy, weight.Value, x.GradBuffer, T.One);
            if (weight.RequiresGrad) device.Conv2dBackwardWeight(geometry, x.Value, dy, weight.GradBuffer, T.One);
            if (bias is { RequiresGrad: true }) device.Conv2dBackwardBias(geometry, dy, bias.GradBuffer, T.One);
        });
        return y;
    }

    /// <summary>Average pooling, NCHW rows: x [batch, g.InputSize] → [batch, g.OutputSize]; dx += the pooling's adjoint of dy.</summary>
    public static Variable<T> AvgPool2d<T>(Variable<T> x, Pool2dGeometry geometry) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tape = x.Tape;
        if (x.Value.Rank != 2 || x.Shape[1] != geometry.InputSize)
            throw new ShapeException($"avgpool2d: the input must be [batch, {geometry.InputSize}] ({geometry.Channels}×{geometry.Height}×{geometry.Width}), got [{string.Join(", ", x.Shape)}]");
        var device = tape.Device;
        var value = tape.Rent(x.Shape[0], geometry.OutputSize);
        tape.Compute(() => device.AvgPool2d(geometry, x.Value, value));
        var y = tape.Result(value, x);
        tape.Record(y, () => device.AvgPool2dBackward(geometry, y.GradBuffer, x.GradBuffer, T.One));
        return y;
    }
}
