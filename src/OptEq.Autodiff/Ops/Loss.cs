namespace OptEq.Autodiff;

public static partial class Ops
{
    /// <summary>
    /// Mean softmax cross-entropy over the rows of logits [batch, classes] with integer labels [batch], as [1].
    /// The per-row losses stay available in <paramref name="perRow"/> (e.g. for accuracy bookkeeping).
    /// </summary>
    public static Variable<T> SoftmaxCrossEntropy<T>(Variable<T> logits, Tensor<int> labels, out Tensor<T> perRow) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tape = logits.Tape;
        var device = tape.Device;
        int rows = logits.Value.Rows;
        var losses = tape.Rent(rows);
        perRow = losses;
        // The gradient of the mean loss, (softmax − onehot)/batch, comes out of the same pass.
        var gradient = logits.RequiresGrad && tape.IsRecording ? tape.Rent(logits.Shape) : null;
        var value = tape.Rent(1);
        var lossRow = losses.Reshape(1, rows);
        T mean = T.One / T.CreateChecked(rows);
        tape.Compute(() =>
        {
            device.SoftmaxCrossEntropy(logits.Value, labels, losses, gradient, mean);
            device.RowReduce(RowReduction.Sum, lossRow, null, value);
            device.Axpby(mean, value, T.Zero, value, value);
        });
        var y = tape.Result(value, logits);
        ScaledAccumulation<T>? backward = null;
        tape.Record(y, () => (backward ??= new ScaledAccumulation<T>(logits.GradBuffer, y.GradBuffer, gradient!)).Run());
        return y;
    }
}
