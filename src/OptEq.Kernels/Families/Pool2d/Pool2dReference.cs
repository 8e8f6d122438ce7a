namespace OptEq.Kernels.Reference;

public static partial class ReferenceKernels
{
    /// <summary>output[b, c, y, x] = mean of input[b, c, y·s + i, x·s + j] over the Kernel × Kernel window.</summary>
    public static double[] AvgPool2d(Pool2dGeometry g, int batch, double[] input)
    {
        int oh = g.OutHeight, ow = g.OutWidth, k = g.Kernel;
        var y = new double[batch * g.OutputSize];
        for (int b = 0; b < batch; b++)
            for (int c = 0; c < g.Channels; c++)
                for (int r = 0; r < oh; r++)
                    for (int s = 0; s < ow; s++)
                    {
                        double sum = 0;
                        for (int i = 0; i < k; i++)
                            for (int j = 0; j < k; j++) sum += input[b * g.InputSize + (c * g.Height + r * g.Stride + i) * g.Width + s * g.Stride + j];
                        y[b * g.OutputSize + (c * oh + r) * ow + s] = sum / (k * k);
                    }
        return y;
    }

    /// <summary>The adjoint of <see cref="AvgPool2d"/>: each output gradient spread evenly over its window (+ β·gradInput).</summary>
    public static double[] AvgPool2dBackward(Pool2dGeometry g, int batch, double[] gradOutput, double beta = 0, double[]? gradInput = null)
    {
        int oh = g.OutHeight, ow = g.OutWidth, k = g.Kernel;
        var dx = new double[batch * g.InputSize];
        if (gradInput is not null && beta != 0)
            for (int n = 0; n < dx.Length; n++) dx[n] = beta * gradInput[n];
        for (int b = 0; b < batch; b++)
            for (int c = 0; c < g.Channels; c++)
                for (int r = 0; r < oh; r++)
                    for (int s = 0; s < ow; s++)
                    {
                        double share = gradOutput[b * g.OutputSize + (c * oh + r) * ow + s] / (k * k);
                        for (int i = 0; i < k; i++)
                            for (int j = 0; j < k; j++) dx[b * g.InputSize + (c * g.Height + r * g.Stride + i) * g.Width + s * g.Stride + j] += share;
                    }
        return dx;
    }
}
