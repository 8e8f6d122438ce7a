namespace OptEq.Solvers.Maps;

/// <summary>Gauss–Jordan inverse with partial pivoting in float64, for once-per-weight-update preparations.</summary>
internal static class DenseInverse
{
    public static double[]? Invert(double[] matrix, int n)
    {
        var a = (double[])matrix.Clone();
        var inv = new double[n * n];
        for (int i = 0; i < n; i++) inv[i * n + i] = 1;
        for (int c = 0; c < n; c++)
        {
            int p = c;
            for (int r = c + 1; r < n; r++) if (Math.Abs(a[r * n + c]) > Math.Abs(a[p * n + c])) p = r;
            if (!(Math.Abs(a[p * n + c]) > 1e-300)) return null;
            if (p != c)
                for (int j = 0; j < n; j++)
                {
                    (a[c * n + j], a[p * n + j]) = (a[p * n + j], a[c * n + j]);
                    (inv[c * n + j], inv[p * n + j]) = (inv[p * n + j], inv[c * n + j]);
                }
            double pivot = a[c * n + c];
            for (int j = 0; j < n; j++) { a[c * n + j] /= pivot; inv[c * n + j] /= pivot; }
            for (int r = 0; r < n; r++)
            {
                if (r == c) continue;
                double f = a[r * n + c];
                if (f == 0) continue;
                for (int j = 0; j < n; j++) { a[r * n + j] -= f * a[c * n + j]; inv[r * n + j] -= f * inv[c * n + j]; }
            }
        }
        return inv;
    }
}

/// <summary>The float64 dense inverse, for layers' host-side reports (robustness bounds).</summary>
public static class DenseInverseAccess
{
    public static double[]? Invert(double[] matrix, int n) => DenseInverse.Invert(matrix, n);
}
