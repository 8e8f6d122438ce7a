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
        // A strided x is summed from a contiguous copy, made in the computation (so a replay copies again).
        var contiguous = x.Value.IsContiguous ? x.Value : tape.Rent(x.Shape);
        var flat = contiguous.Reshape(1, -1);
        var value = tape.Rent(1);
        tape.Compute(() =>
        {
            if (!ReferenceEquals(contiguous, x.Value)) device.Copy(x.Value, contiguous);
            device.RowReduce(RowReduction.Sum, flat, null, value);
            if (scale != T.One) device.Axpby(scale, value, T.Zero, value, value);
        });
        var y = tape.Result(value, x);
        ScaledAccumulation<T>? backward = null;
        tape.Record(y, () =>
        {
            var ones = tape.Rent(x.Shape);
            device.Fill(ones, scale);
            (backward ??= new ScaledAccumulation<T>(x.GradBuffer, y.GradBuffer, ones)).Run();
        });
        return y;
    }
}
