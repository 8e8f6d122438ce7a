namespace OptEq.Autodiff;

public static partial class Ops
{
    /// <summary>
    /// Mean softmax cross-entropy over the rows of logits [batch, classes] with integer labels [batch], as [1].
    /// The per-row losses stay available in <paramref name="perRow"/> (e.g. for accuracy bookkeeping).
    /// </summary>
    public static Variable<T> SoftmaxCrossEntropy<T>(Variable<T> logits, Tensor<int> labels, out Tensor<T> perRow) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var device = logits.Tape.Device;
        // The gradient of the mean loss, (softmax − onehot)/batch, comes out of the same pass.
        return MeanOfRowLosses(logits, (losses, gradient, mean) => device.SoftmaxCrossEntropy(logits.Value, labels, losses, gradient, mean), out perRow);
    }

    /// <summary>
    /// The mean over the rows of <paramref name="input"/> of a per-row loss whose kernel writes the row losses and, in the
    /// same pass, the gradient of the mean (scaled by 1/batch) when asked: the shared shape of the classification losses.
    /// </summary>
    private static Variable<T> MeanOfRowLosses<T>(Variable<T> input, Action<Tensor<T>, Tensor<T>?, T> rowLosses, out Tensor<T> perRow) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tape = input.Tape;
        var device = tape.Device;
        int rows = input.Value.Rows;
        var losses = tape.Rent(rows);
        perRow = losses;
        var gradient = input.RequiresGrad && tape.IsRecording ? tape.Rent(input.Shape) : null;
        var value = tape.Rent(1);
        var lossRow = losses.Reshape(1, rows);
        T mean = T.One / T.CreateChecked(rows);
        tape.Compute(() =>
        {
            rowLosses(losses, gradient, mean);
            device.RowReduce(RowReduction.Sum, lossRow, null, value);
            device.Axpby(mean, value, T.Zero, value, value);
        });
        var y = tape.Result(value, input);
        ScaledAccumulation<T>? backward = null;
        tape.Record(y, () => (backward ??= new ScaledAccumulation<T>(input.GradBuffer, y.GradBuffer, gradient!)).Run());
        return y;
    }
}
