namespace OptEq.Kernels.Reference;

public static partial class ReferenceKernels
{
    /// <summary>x = A⁻¹b by Gaussian elimination with partial pivoting on copies; null when singular.</summary>
    public static double[]? Solve(int n, double[] a, double[] b)
    {
        var m = (double[])a.Clone(); var r = (double[])b.Clone();
        for (int c = 0; c < n; c++)
        {
            int p = c;
            for (int i = c + 1; i < n; i++) if (Math.Abs(m[i * n + c]) > Math.Abs(m[p * n + c])) p = i;
            if (m[p * n + c] == 0) return null;
            for (int j = 0; j < n; j++) (m[c * n + j], m[p * n + j]) = (m[p * n + j], m[c * n + j]);
            (r[c], r[p]) = (r[p], r[c]);
            for (int i = c + 1; i < n; i++)
            {
                double f = m[i * n + c] / m[c * n + c];
                for (int j = c; j < n; j++) m[i * n + j] -= f * m[c * n + j];
                r[i] -= f * r[c];
            }
        }
        var x = new double[n];
        for (int i = n - 1; i >= 0; i--)
        {
            double s = r[i];
            for (int j = i + 1; j < n; j++) s -= m[i * n + j] * x[j];
            x[i] = s / m[i * n + i];
        }
        return x;
    }
}
