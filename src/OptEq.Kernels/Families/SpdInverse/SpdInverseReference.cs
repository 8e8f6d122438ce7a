namespace OptEq.Kernels.Reference;

public static partial class ReferenceKernels
{
    /// <summary>(a + λI)⁻¹ of one symmetric n×n matrix (lower triangle read) via Cholesky, in float64; null when not positive definite.</summary>
    public static double[]? SpdInverse(int n, double[] a, double damping)
    {
        var l = new double[n * n];
        for (int j = 0; j < n; j++)
        {
            double diagonal = a[j * n + j] + damping;
            for (int k = 0; k < j; k++) diagonal -= l[j * n + k] * l[j * n + k];
            if (!(diagonal > 0) || !double.IsFinite(diagonal)) return null;
            l[j * n + j] = Math.Sqrt(diagonal);
            for (int i = j + 1; i < n; i++)
            {
                double s = a[i * n + j];
                for (int k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
                l[i * n + j] = s / l[j * n + j];
            }
        }
        // L⁻¹ column by column (forward substitution on the unit vectors), then (a + λI)⁻¹ = L⁻ᵀ·L⁻¹.
        var inv = new double[n * n];
        for (int c = 0; c < n; c++)
            for (int i = c; i < n; i++)
            {
                double s = i == c ? 1 : 0;
                for (int k = c; k < i; k++) s -= l[i * n + k] * inv[k * n + c];
                inv[i * n + c] = s / l[i * n + i];
            }
        var result = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int k = Math.Max(i, j); k < n; k++) s += inv[k * n + i] * inv[k * n + j];
                result[i * n + j] = s;
            }
        return result;
    }
}
