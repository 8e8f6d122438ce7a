namespace OptEq.Kernels.Reference;

public static partial class ReferenceKernels
{
    /// <summary>a + h·⟨h, r⟩ + ε·d²·r per row (docs/math.md §6.4); null a is zero, null d is one.</summary>
    public static double[] DdpnRankOneCorrection(int rows, int cols, double[]? a, double[] h, double[] r, double[]? d, double epsilon)
    {
        var result = new double[rows * cols];
        for (int i = 0; i < rows; i++)
        {
            double s = 0;
            for (int j = 0; j < cols; j++) s += h[i * cols + j] * r[i * cols + j];
            for (int j = 0; j < cols; j++)
            {
                int k = i * cols + j;
                double dj = d is null ? 1 : d[k];
                result[k] = (a is null ? 0 : a[k]) + h[k] * s + epsilon * dj * dj * r[k];
            }
        }
        return result;
    }

    /// <summary>√max(0, 1 − Σⱼ h²·p) per row (docs/math.md §6.3).</summary>
    public static double[] DdpnValueFactor(int rows, int cols, double[] h, double[] p)
    {
        var result = new double[rows];
        for (int i = 0; i < rows; i++)
        {
            double s = 0;
            for (int j = 0; j < cols; j++) s += h[i * cols + j] * h[i * cols + j] * p[i * cols + j];
            result[i] = Math.Sqrt(Math.Max(0, 1 - s));
        }
        return result;
    }
}
