namespace OptEq.Kernels.Reference;

public static partial class ReferenceKernels
{
    /// <summary>
    /// Per-row loss −log softmax(z)[label] and gradient scale·(softmax(z) − onehot). A label outside [0, cols) gives a NaN
    /// loss and a NaN gradient row, as <see cref="LossExtensions.SoftmaxCrossEntropy{T}"/> documents.
    /// </summary>
    public static (double[] Loss, double[] Gradient) SoftmaxCrossEntropy(int rows, int cols, double[] logits, int[] labels, double scale)
    {
        var loss = new double[rows]; var grad = new double[rows * cols];
        for (int i = 0; i < rows; i++)
        {
            double max = double.NegativeInfinity;
            for (int j = 0; j < cols; j++) max = Math.Max(max, logits[i * cols + j]);
            double sum = 0;
            for (int j = 0; j < cols; j++) sum += Math.Exp(logits[i * cols + j] - max);
            double logSum = Math.Log(sum) + max;
            bool valid = labels[i] >= 0 && labels[i] < cols;
            loss[i] = valid ? logSum - logits[i * cols + labels[i]] : double.NaN;
            for (int j = 0; j < cols; j++)
                grad[i * cols + j] = valid ? scale * (Math.Exp(logits[i * cols + j] - logSum) - (j == labels[i] ? 1 : 0)) : double.NaN;
        }
        return (loss, grad);
    }
}
