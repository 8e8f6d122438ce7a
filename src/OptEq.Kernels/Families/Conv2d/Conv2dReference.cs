namespace OptEq.Kernels.Reference;

public static partial class ReferenceKernels
{
    /// <summary>
    /// The input pixel a kernel tap reads along one axis: position = out·stride − padding + tap; −1 where it falls in the
    /// zero padding, the wrapped position for circular padding.
    /// </summary>
    public static int ConvSource(int output, int tap, int size, int stride, int padding, ConvPadding mode)
    {
        int i = output * stride - padding + tap;
        if (i >= 0 && i < size) return i;
        if (mode == ConvPadding.Zero) return -1;
        return ((i % size) + size) % size;
    }

    /// <summary>output[b, o, y, x] = bias[o] + Σ_{c,i,j} weight[o, c, i, j]·input[b, c, y·s − p + i, x·s − p + j] (+ β·output where given).</summary>
    public static double[] Conv2d(Conv2dGeometry g, int batch, double[] input, double[] weight, double[]? bias, double beta = 0, double[]? output = null)
    {
        int oh = g.OutHeight, ow = g.OutWidth;
        var y = new double[batch * g.OutputSize];
        for (int b = 0; b < batch; b++)
            for (int o = 0; o < g.OutChannels; o++)
                for (int r = 0; r < oh; r++)
                    for (int s = 0; s < ow; s++)
                    {
                        double sum = bias?[o] ?? 0;
                        for (int c = 0; c < g.InChannels; c++)
                            for (int i = 0; i < g.KernelHeight; i++)
                            {
                                int h = ConvSource(r, i, g.Height, g.Stride, g.Padding, g.PaddingMode);
                                if (h < 0) continue;
                                for (int j = 0; j < g.KernelWidth; j++)
                                {
                                    int w = ConvSource(s, j, g.Width, g.Stride, g.Padding, g.PaddingMode);
                                    if (w < 0) continue;
                                    sum += weight[((o * g.InChannels + c) * g.KernelHeight + i) * g.KernelWidth + j]
                                           * input[b * g.InputSize + (c * g.Height + h) * g.Width + w];
                                }
                            }
                        int at = b * g.OutputSize + (o * oh + r) * ow + s;
                        y[at] = sum + (beta == 0 || output is null ? 0 : beta * output[at]);
                    }
        return y;
    }

    /// <summary>The adjoint of <see cref="Conv2d"/>'s linear part: every product input·weight of the forward sends gradOutput·weight back to its input pixel.</summary>
    public static double[] Conv2dBackwardInput(Conv2dGeometry g, int batch, double[] gradOutput, double[] weight, double beta = 0, double[]? gradInput = null)
    {
        var dx = new double[batch * g.InputSize];
        if (gradInput is not null && beta != 0)
            for (int k = 0; k < dx.Length; k++) dx[k] = beta * gradInput[k];
        int oh = g.OutHeight, ow = g.OutWidth;
        for (int b = 0; b < batch; b++)
            for (int o = 0; o < g.OutChannels; o++)
                for (int r = 0; r < oh; r++)
                    for (int s = 0; s < ow; s++)
                    {
                        double go = gradOutput[b * g.OutputSize + (o * oh + r) * ow + s];
                        for (int c = 0; c < g.InChannels; c++)
                            for (int i = 0; i < g.KernelHeight; i++)
                            {
                                int h = ConvSource(r, i, g.Height, g.Stride, g.Padding, g.PaddingMode);
                                if (h < 0) continue;
                                for (int j = 0; j < g.KernelWidth; j++)
                                {
                                    int w = ConvSource(s, j, g.Width, g.Stride, g.Padding, g.PaddingMode);
                                    if (w < 0) continue;
                                    dx[b * g.InputSize + (c * g.Height + h) * g.Width + w] += go * weight[((o * g.InChannels + c) * g.KernelHeight + i) * g.KernelWidth + j];
                                }
                            }
                    }
        return dx;
    }

    /// <summary>gradWeight[o, c, i, j] = Σ_{b,y,x} gradOutput[b, o, y, x]·input[b, c, y·s − p + i, x·s − p + j] (+ β·gradWeight).</summary>
    public static double[] Conv2dBackwardWeight(Conv2dGeometry g, int batch, double[] input, double[] gradOutput, double beta = 0, double[]? gradWeight = null)
    {
        var dw = new double[g.OutChannels * g.WeightColumns];
        if (gradWeight is not null && beta != 0)
            for (int k = 0; k < dw.Length; k++) dw[k] = beta * gradWeight[k];
        int oh = g.OutHeight, ow = g.OutWidth;
        for (int o = 0; o < g.OutChannels; o++)
            for (int c = 0; c < g.InChannels; c++)
                for (int i = 0; i < g.KernelHeight; i++)
                    for (int j = 0; j < g.KernelWidth; j++)
                    {
                        double sum = 0;
                        for (int b = 0; b < batch; b++)
                            for (int r = 0; r < oh; r++)
                            {
                                int h = ConvSource(r, i, g.Height, g.Stride, g.Padding, g.PaddingMode);
                                if (h < 0) continue;
                                for (int s = 0; s < ow; s++)
                                {
                                    int w = ConvSource(s, j, g.Width, g.Stride, g.Padding, g.PaddingMode);
                                    if (w < 0) continue;
                                    sum += gradOutput[b * g.OutputSize + (o * oh + r) * ow + s] * input[b * g.InputSize + (c * g.Height + h) * g.Width + w];
                                }
                            }
                        dw[((o * g.InChannels + c) * g.KernelHeight + i) * g.KernelWidth + j] += sum;
                    }
        return dw;
    }

    /// <summary>gradBias[o] = Σ_{b,y,x} gradOutput[b, o, y, x] (+ β·gradBias).</summary>
    public static double[] Conv2dBackwardBias(Conv2dGeometry g, int batch, double[] gradOutput, double beta = 0, double[]? gradBias = null)
    {
        var db = new double[g.OutChannels];
        for (int o = 0; o < g.OutChannels; o++)
        {
            double sum = 0;
            for (int b = 0; b < batch; b++)
                for (int p = 0; p < g.OutPixels; p++) sum += gradOutput[b * g.OutputSize + o * g.OutPixels + p];
            db[o] = sum + (gradBias is null || beta == 0 ? 0 : beta * gradBias[o]);
        }
        return db;
    }
}
