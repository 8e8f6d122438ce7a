namespace OptEq.Kernels.Reference;

public static partial class ReferenceKernels
{
    /// <summary>
    /// Eigenvalues (ascending) and unit eigenvectors (as rows, vectors[j·n + i]) of the symmetric n×n matrix a, by plain
    /// cyclic Jacobi in float64 run to convergence (off-diagonal mass below 1e-15·‖a‖_F, at most 100 sweeps).
    /// </summary>
    public static (double[] Values, double[] Vectors) SymmetricEigen(int n, double[] a)
    {
        var m = (double[])a.Clone();
        var v = new double[n * n];
        for (int i = 0; i < n; i++) v[i * n + i] = 1;
        double total = 0;
        foreach (double x in m) total += x * x;
        for (int sweep = 0; sweep < 100; sweep++)
        {
            double off = 0;
            for (int p = 0; p < n; p++) for (int q = p + 1; q < n; q++) off += 2 * m[p * n + q] * m[p * n + q];
            if (off <= 1e-30 * total) break;
            for (int p = 0; p < n; p++)
                for (int q = p + 1; q < n; q++)
                {
                    double apq = m[p * n + q];
                    if (apq == 0) continue;
                    double theta = (m[q * n + q] - m[p * n + p]) / (2 * apq);
                    double t = 1 / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                    if (theta < 0) t = -t;
                    double c = 1 / Math.Sqrt(t * t + 1), s = t * c;
                    for (int k = 0; k < n; k++)
                    {
                        double kp = m[k * n + p], kq = m[k * n + q];
                        m[k * n + p] = c * kp - s * kq; m[k * n + q] = s * kp + c * kq;
                    }
                    for (int k = 0; k < n; k++)
                    {
                        double pk = m[p * n + k], qk = m[q * n + k];
                        m[p * n + k] = c * pk - s * qk; m[q * n + k] = s * pk + c * qk;
                    }
                    for (int k = 0; k < n; k++)
                    {
                        double kp = v[k * n + p], kq = v[k * n + q];
                        v[k * n + p] = c * kp - s * kq; v[k * n + q] = s * kp + c * kq;
                    }
                }
        }
        var order = Enumerable.Range(0, n).OrderBy(j => m[j * n + j]).ToArray();
        var values = new double[n];
        var vectors = new double[n * n];
        for (int j = 0; j < n; j++)
        {
            values[j] = m[order[j] * n + order[j]];
            for (int i = 0; i < n; i++) vectors[j * n + i] = v[i * n + order[j]];
        }
        return (values, vectors);
    }
}
