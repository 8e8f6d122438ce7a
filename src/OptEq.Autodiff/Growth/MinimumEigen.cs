using OptEq.Kernels.Reference;

namespace OptEq.Autodiff.Growth;

/// <summary>The extreme eigenpairs of one neuron's splitting matrix: λ_min, v_min (and λ_max, v_max for signed splits).</summary>
public sealed record NeuronEigen(double LambdaMin, double[] VMin, double LambdaMax, double[] VMax);

/// <summary>
/// λ_min and v_min of every neuron's splitting matrix: exactly (form S, batched Jacobi on the device) for small fan-in,
/// or by Lanczos with S·v products only, batched over the neurons (docs/math.md §5.4).
/// </summary>
public static class MinimumEigen
{
    /// <summary>Forms every S_i and diagonalises them all with the device's batched symmetric eigensolver (float64).</summary>
    public static NeuronEigen[] Exact(Device device, SplittingOperator op)
    {
        int h = op.Neurons, d = op.Dim;
        if (d > SymmetricEigenExtensions.MaxSymmetricEigenSize)
            throw new ArgumentException($"splitting: exact eigenvectors need fan-in ≤ {SymmetricEigenExtensions.MaxSymmetricEigenSize} (this layer's is {d}); use the fast (Lanczos) variant");
        using var a = device.FromArray<double>(op.Form(), h, d, d);
        using var values = device.Allocate<double>(h, d);
        using var vectors = device.Allocate<double>(h, d, d);
        device.SymmetricEigen(a, values, vectors);
        var w = values.ToArray();
        var v = vectors.ToArray();
        var result = new NeuronEigen[h];
        for (int i = 0; i < h; i++)
        {
            int o = i * d * d; // h·d² < 2³¹: d ≤ 256 and the batch fits one tensor
            result[i] = new NeuronEigen(w[i * d], v[o..(o + d)], w[i * d + d - 1], v[(o + (d - 1) * d)..(o + d * d)]);
        }
        return result;
    }

    /// <summary>
    /// Lanczos with full reorthogonalisation, <paramref name="steps"/> steps (at most D), for every neuron at once:
    /// each step is one batched <see cref="SplittingOperator.Apply"/>. The Ritz pairs of the small tridiagonal matrix
    /// (diagonalised by the float64 reference Jacobi) give λ_min, v_min, λ_max and v_max. With steps = D it is exact.
    /// </summary>
    public static NeuronEigen[] Lanczos(SplittingOperator op, int steps, int seed = 0)
    {
        int h = op.Neurons, d = op.Dim, m = Math.Min(steps, d);
        if (m < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, "Lanczos needs ≥ 1 step");
        var basis = new double[m][]; // basis[j]: [H, D]
        var alpha = new double[h * m];
        var beta = new double[h * m];
        var rng = new Random(seed);
        var q = new double[h * d];
        for (int i = 0; i < q.Length; i++) q[i] = rng.NextDouble() - 0.5;
        for (int i = 0; i < h; i++) Normalise(q, i * d, d);
        var w = new double[h * d];
        var done = new bool[h];
        var sizes = Enumerable.Repeat(m, h).ToArray(); // each neuron's Krylov dimension
        int used = 0;
        for (int j = 0; j < m; j++)
        {
            basis[j] = (double[])q.Clone();
            used = j + 1;
            op.Apply(q, w);
            Parallel.For(0, h, i =>
            {
                int o = i * d;
                if (done[i]) { Array.Clear(w, o, d); return; }
                alpha[i * m + j] = Dot(w, q, o, d);
                // Full reorthogonalisation (twice is enough): keeps the Ritz vectors orthogonal in float64.
                for (int pass = 0; pass < 2; pass++)
                    for (int k = 0; k <= j; k++)
                    {
                        double c = Dot(w, basis[k], o, d);
                        for (int t = 0; t < d; t++) w[o + t] -= c * basis[k][o + t];
                    }
                double b = Math.Sqrt(Dot(w, w, o, d));
                beta[i * m + j] = b;
                if (b < 1e-13 * (Math.Abs(alpha[i * m + j]) + 1e-300)) { done[i] = true; sizes[i] = j + 1; Array.Clear(w, o, d); return; } // invariant subspace found
                for (int t = 0; t < d; t++) w[o + t] /= b;
            });
            (q, w) = (w, q);
        }
        var result = new NeuronEigen[h];
        Parallel.For(0, h, i =>
        {
            int size = Math.Min(sizes[i], used);
            var t = new double[size * size];
            for (int j = 0; j < size; j++)
            {
                t[j * size + j] = alpha[i * m + j];
                if (j + 1 < size) t[j * size + j + 1] = t[(j + 1) * size + j] = beta[i * m + j];
            }
            var (values, vectors) = ReferenceKernels.SymmetricEigen(size, t);
            double[] Ritz(int which)
            {
                var v = new double[d];
                for (int j = 0; j < size; j++)
                {
                    double y = vectors[which * size + j];
                    for (int k = 0; k < d; k++) v[k] += y * basis[j][i * d + k];
                }
                double norm = Math.Sqrt(v.Sum(x => x * x));
                for (int k = 0; k < d; k++) v[k] /= norm;
                return v;
            }
            result[i] = new NeuronEigen(values[0], Ritz(0), values[size - 1], Ritz(size - 1));
        });
        return result;
    }

    private static double Dot(double[] a, double[] b, int offset, int length)
    {
        double s = 0;
        for (int t = 0; t < length; t++) s += a[offset + t] * b[offset + t];
        return s;
    }

    private static void Normalise(double[] a, int offset, int length)
    {
        double n = Math.Sqrt(Dot(a, a, offset, length));
        for (int t = 0; t < length; t++) a[offset + t] /= n;
    }
}
