namespace OptEq.Kernels.Reference;

public static partial class ReferenceKernels
{
    public static double[] RowReduce(RowReduction reduction, int rows, int cols, double[] x, double[]? y)
    {
        var r = new double[rows];
        for (int i = 0; i < rows; i++)
        {
            double acc = 0;
            for (int j = 0; j < cols; j++)
            {
                double xv = x[i * cols + j];
                acc = reduction switch
                {
                    RowReduction.Dot => acc + xv * y![i * cols + j],
                    RowReduction.SquaredNorm => acc + xv * xv,
                    RowReduction.SquaredDistance => acc + (xv - y![i * cols + j]) * (xv - y![i * cols + j]),
                    RowReduction.Sum => acc + xv,
                    RowReduction.MaxAbs => double.IsNaN(xv) || double.IsNaN(acc) ? double.NaN : Math.Max(acc, Math.Abs(xv)),
                    _ => throw new ArgumentOutOfRangeException(nameof(reduction)),
                };
            }
            r[i] = acc;
        }
        return r;
    }
}
