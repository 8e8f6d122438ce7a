using OptEq.Kernels.Activations;

namespace OptEq.Kernels.Reference;

/// <summary>
/// The oracle: every kernel as the plainest float64 loop over dense row-major host arrays (leading dimension =
/// column count). Tests and benchmarks compare each backend against these; they are never used for speed.
/// </summary>
public static class ReferenceKernels
{
    /// <summary>C ← α·op(A)·op(B) + β·C; op(A) is m×k, op(B) is k×n. A is stored m×k (or k×m when transposed).</summary>
    public static void Gemm(bool transA, bool transB, int m, int n, int k, double alpha, double[] a, double[] b, double beta, double[] c)
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++)
                    sum += (transA ? a[p * m + i] : a[i * k + p]) * (transB ? b[j * k + p] : b[p * n + j]);
                c[i * n + j] = alpha * sum + (beta == 0 ? 0 : beta * c[i * n + j]);
            }
    }

    /// <summary>
    /// The pre-activation op(A)·op(B) + addend of <see cref="Device.GemmProx{T}"/> (addend null, a bias of n, or m×n);
    /// σ and σ′ of it are <see cref="Prox{TAct}"/>.
    /// </summary>
    public static double[] GemmPreActivation(bool transA, bool transB, int m, int n, int k, double[] a, double[] b, double[]? addend)
    {
        var pre = new double[m * n];
        if (addend is not null)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++) pre[i * n + j] = addend.Length == n ? addend[j] : addend[i * n + j];
        Gemm(transA, transB, m, n, k, 1, a, b, addend is null ? 0 : 1, pre);
        return pre;
    }

    /// <summary>
    /// <see cref="Device.AndersonUpdate{T}"/> on dense arrays: iterates and residuals [batch, m, d] and gram [batch, m, m]
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

    /// <summary><see cref="Device.AndersonMix{T}"/> on dense arrays (alpha [batch, m]); z is updated in place.</summary>
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

    /// <summary>σ(v), σ′(v) and f(σ(v)) elementwise.</summary>
    public static (double[] Value, double[] Derivative, double[] Penalty) Prox<TAct>(TAct activation, double[] v) where TAct : IProxActivation<double>
    {
        var z = new double[v.Length]; var d = new double[v.Length]; var f = new double[v.Length];
        for (int i = 0; i < v.Length; i++)
        {
            z[i] = activation.Value(v[i]);
            d[i] = activation.Derivative(v[i]);
            f[i] = activation.Penalty(z[i]);
        }
        return (z, d, f);
    }

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

    /// <summary>
    /// Per-row loss −log softmax(z)[label] and gradient scale·(softmax(z) − onehot). A label outside [0, cols) gives a NaN
    /// loss and a NaN gradient row, as <see cref="Device.SoftmaxCrossEntropy{T}"/> documents.
    /// </summary>
    public static (double[] Loss, double[] Gradient) SoftmaxCrossEntropy(int rows, int cols, double[] logits, int[] labels, double scale)
    {
        var loss = new double[rows]; var grad = new double[rows * cols];
        for (int i = 0; i < rows; i++)
        {
            double max = double.NegativeInfinity;
            for (int j = 0; j < cols; j++) max = Math.Max(max, logits[i * cols + j]);
            double sum = 0;
            for (int j = 0; j < cols; j++) sum += Math.Exp(logits[i * cols + j] - max);
            double logSum = Math.Log(sum) + max;
            bool valid = labels[i] >= 0 && labels[i] < cols;
            loss[i] = valid ? logSum - logits[i * cols + labels[i]] : double.NaN;
            for (int j = 0; j < cols; j++)
                grad[i * cols + j] = valid ? scale * (Math.Exp(logits[i * cols + j] - logSum) - (j == labels[i] ? 1 : 0)) : double.NaN;
        }
        return (loss, grad);
    }

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

    public static double[] Transpose(int m, int n, double[] a)
    {
        var t = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) t[j * m + i] = a[i * n + j];
        return t;
    }
}
