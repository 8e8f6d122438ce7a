namespace OptEq.Autodiff;

public static partial class Ops
{
    /// <summary>Σ of all elements, as a one-element tensor [1].</summary>
    public static Variable<T> Sum<T>(Variable<T> x) where T : unmanaged, IFloatingPointIeee754<T> => SumScaled(x, T.One);

    /// <summary>The mean of all elements, [1].</summary>
    public static Variable<T> Mean<T>(Variable<T> x) where T : unmanaged, IFloatingPointIeee754<T>
        => SumScaled(x, T.One / T.CreateChecked(x.Value.Length));

    private static Variable<T> SumScaled<T>(Variable<T> x, T scale) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tape = x.Tape;
        var device = tape.Device;
        var flat = ContiguousCopy(tape, x.Value).Reshape(1, -1);
        var value = tape.Rent(1);
        device.RowReduce(RowReduction.Sum, flat, null, value);
        if (scale != T.One) device.Axpby(scale, value, T.Zero, value, value);
        var y = tape.Result(value, x);
        tape.Record(y, () =>
        {
            var ones = tape.Rent(x.Shape);
            device.Fill(ones, scale);
            AccumulateScaled(x.GradBuffer, y.GradBuffer, ones);
        });
        return y;
    }

    private static Tensor<T> ContiguousCopy<T>(Tape<T> tape, Tensor<T> t) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (t.IsContiguous) return t;
        var c = tape.Rent(t.Shape);
        tape.Device.Copy(t, c);
        return c;
    }
}
