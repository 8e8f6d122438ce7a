namespace OptEq.Kernels.Reference;

public static partial class ReferenceKernels
{
    public static double[] AddBias(int rows, int cols, double[] x, double[] bias)
    {
        var y = new double[rows * cols];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) y[i * cols + j] = x[i * cols + j] + bias[j];
        return y;
    }

    public static double[] Axpby(double alpha, double[] x, double beta, double[] y)
    {
        var r = new double[x.Length];
        for (int i = 0; i < x.Length; i++) r[i] = alpha * x[i] + (beta == 0 ? 0 : beta * y[i]);
        return r;
    }
}
