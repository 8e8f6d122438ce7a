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

    /// <summary>√max(0, 1 − scale·⟨h, hg⟩·⟨x, xa⟩) per row (docs/math.md §6.3, Kronecker-factored M⁻¹).</summary>
    public static double[] DdpnKroneckerValueFactor(int rows, int hcols, double[] h, double[] hg, int xcols, double[] x, double[] xa, double scale)
    {
        var result = new double[rows];
        for (int i = 0; i < rows; i++)
        {
            double sh = 0, sx = 0;
            for (int j = 0; j < hcols; j++) sh += h[i * hcols + j] * hg[i * hcols + j];
            for (int j = 0; j < xcols; j++) sx += x[i * xcols + j] * xa[i * xcols + j];
            result[i] = Math.Sqrt(Math.Max(0, 1 - scale * sh * sx));
        }
        return result;
    }
}
