namespace OptEq.Kernels.Reference;

public static partial class ReferenceKernels
{
    /// <summary>a + h·⟨h, r⟩ + ε·d²·r per row (docs/math.md §6.4); null a is zero, null d is one; with a and bound ρ &gt; 0
    /// the correction is scaled by min(1, ρ‖a‖/‖c‖) per row.</summary>
    public static double[] DdpnRankOneCorrection(int rows, int cols, double[]? a, double[] h, double[] r, double[]? d, double epsilon, double bound = 0)
    {
        var result = new double[rows * cols];
        for (int i = 0; i < rows; i++)
        {
            double s = 0;
            for (int j = 0; j < cols; j++) s += h[i * cols + j] * r[i * cols + j];
            double scale = 1;
            if (a is not null && bound > 0)
            {
                double an = 0, cn = 0;
                for (int j = 0; j < cols; j++)
                {
                    int k = i * cols + j;
                    double dj = d is null ? 1 : d[k], c = h[k] * s + epsilon * dj * dj * r[k];
                    an += a[k] * a[k]; cn += c * c;
                }
                if (bound * Math.Sqrt(an) < Math.Sqrt(cn)) scale = bound * Math.Sqrt(an) / Math.Sqrt(cn);
            }
            for (int j = 0; j < cols; j++)
            {
                int k = i * cols + j;
                double dj = d is null ? 1 : d[k];
                result[k] = (a is null ? 0 : a[k]) + scale * (h[k] * s + epsilon * dj * dj * r[k]);
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
