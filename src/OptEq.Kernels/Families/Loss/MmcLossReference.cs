namespace OptEq.Kernels.Reference;

public static partial class ReferenceKernels
{
    /// <summary>
    /// Per-row Max-Mahalanobis centre loss ½‖f − μ_label‖² and gradient scale·(f − μ_label), with the centres [classes, cols]
    /// row-major. A label outside [0, classes) gives a NaN loss and a NaN gradient row, as <see cref="LossExtensions.MmcLoss{T}"/> documents.
    /// </summary>
    public static (double[] Loss, double[] Gradient) MmcLoss(int rows, int cols, int classes, double[] features, int[] labels, double[] centres, double scale)
    {
        var loss = new double[rows]; var grad = new double[rows * cols];
        for (int i = 0; i < rows; i++)
        {
            bool valid = labels[i] >= 0 && labels[i] < classes;
            double sum = 0;
            for (int j = 0; j < cols; j++)
            {
                double e = valid ? features[i * cols + j] - centres[labels[i] * cols + j] : double.NaN;
                sum += e * e;
                grad[i * cols + j] = scale * e;
            }
            loss[i] = sum / 2;
        }
        return (loss, grad);
    }
}
