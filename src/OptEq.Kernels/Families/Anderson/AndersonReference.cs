namespace OptEq.Kernels.Reference;

public static partial class ReferenceKernels
{
    /// <summary>
    /// <see cref="AndersonExtensions.AndersonUpdate{T}"/> on dense arrays: iterates and residuals [batch, m, d] and gram [batch, m, m]
    /// are updated in place; returns ||fz − z||² and ||fz||² per sample.
    /// </summary>
    public static (double[] AbsSquared, double[] NormSquared) AndersonUpdate(int batch, int m, int d, int slot, int used,
        double[] z, double[] fz, double[] iterates, double[] residuals, double[] gram)
    {
        var abs = new double[batch]; var norm = new double[batch];
        for (int b = 0; b < batch; b++)
        {
            for (int j = 0; j < d; j++)
            {
                double r = fz[b * d + j] - z[b * d + j];
                iterates[(b * m + slot) * d + j] = z[b * d + j];
                residuals[(b * m + slot) * d + j] = r;
                abs[b] += r * r;
                norm[b] += fz[b * d + j] * fz[b * d + j];
            }
            for (int i = 0; i < used; i++)
            {
                double dot = 0;
                for (int j = 0; j < d; j++) dot += residuals[(b * m + slot) * d + j] * residuals[(b * m + i) * d + j];
                gram[(b * m + slot) * m + i] = gram[(b * m + i) * m + slot] = dot;
            }
        }
        return (abs, norm);
    }

    /// <summary><see cref="AndersonExtensions.AndersonMix{T}"/> on dense arrays (alpha [batch, m]); z is updated in place.</summary>
    public static void AndersonMix(int batch, int m, int d, int used, double[] alpha, int[] status, double[] active,
        double[] iterates, double[] residuals, double[] fz, double beta, double[] z)
    {
        for (int b = 0; b < batch; b++)
        {
            if (active[b] == 0) continue;
            for (int j = 0; j < d; j++)
            {
                if (status[b] != 0) { z[b * d + j] = fz[b * d + j]; continue; }
                double sum = 0;
                for (int i = 0; i < used; i++)
                    sum += alpha[b * m + i] * (iterates[(b * m + i) * d + j] + beta * residuals[(b * m + i) * d + j]);
                z[b * d + j] = sum;
            }
        }
    }
}
