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
        perRow = tape.Rent(rows);
        // The gradient of the mean loss, (softmax − onehot)/batch, comes out of the same pass.
        var gradient = logits.RequiresGrad && tape.IsRecording ? tape.Rent(logits.Shape) : null;
        device.SoftmaxCrossEntropy(logits.Value, labels, perRow, gradient, T.One / T.CreateChecked(rows));
        var value = tape.Rent(1);
        device.RowReduce(RowReduction.Sum, perRow.Reshape(1, rows), null, value);
        device.Axpby(T.One / T.CreateChecked(rows), value, T.Zero, value, value);
        var y = tape.Result(value, logits);
        tape.Record(y, () => AccumulateScaled(logits.GradBuffer, y.GradBuffer, gradient!));
        return y;
    }
}
