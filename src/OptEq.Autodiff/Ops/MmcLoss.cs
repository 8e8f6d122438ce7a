namespace OptEq.Autodiff;

public static partial class Ops
{
    /// <summary>
    /// Mean Max-Mahalanobis centre loss over the rows of <paramref name="features"/> [batch, dim] with integer labels [batch],
    /// as [1]: (1/B)·Σ_b ½‖f_b − μ_{y_b}‖² with the fixed centres [classes, dim] (docs/math.md §7.9). The per-row losses stay
    /// available in <paramref name="perRow"/>.
    /// </summary>
    public static Variable<T> MmcLoss<T>(Variable<T> features, Tensor<int> labels, Tensor<T> centres, out Tensor<T> perRow) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tape = features.Tape;
        var device = tape.Device;
        int rows = features.Value.Rows;
        var losses = tape.Rent(rows);
        perRow = losses;
        // The gradient of the mean loss, (f − μ_y)/batch, comes out of the same pass.
        var gradient = features.RequiresGrad && tape.IsRecording ? tape.Rent(features.Shape) : null;
        var value = tape.Rent(1);
        var lossRow = losses.Reshape(1, rows);
        T mean = T.One / T.CreateChecked(rows);
        tape.Compute(() =>
        {
            device.MmcLoss(features.Value, labels, centres, losses, gradient, mean);
            device.RowReduce(RowReduction.Sum, lossRow, null, value);
            device.Axpby(mean, value, T.Zero, value, value);
        });
        var y = tape.Result(value, features);
        ScaledAccumulation<T>? backward = null;
        tape.Record(y, () => (backward ??= new ScaledAccumulation<T>(features.GradBuffer, y.GradBuffer, gradient!)).Run());
        return y;
    }
}
