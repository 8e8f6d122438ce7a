using OptEq.Kernels.Activations;
using OptEq.Solvers.Maps;

namespace OptEq.Solvers.Problems;

/// <summary>
/// Reproducible OptEq problems for comparing solvers: M = WᵀW = Q·diag(s²)·Qᵀ with W's singular values s spread evenly
/// over (0, √ρ] (so many directions contract slowly, unlike a random Gaussian W whose spectrum is dominated by a few
/// values), Q a dense orthogonal matrix (a product of Householder reflections), and a Gaussian injection c.
/// </summary>
public sealed class SyntheticOptEq<T> : IDisposable where T : unmanaged, IFloatingPointIeee754<T>
{
    public SyntheticOptEq(Device device, Activation activation, int batch, int hidden, double rho, int seed = 0)
    {
        if (batch < 1 || hidden < 1) throw new ArgumentOutOfRangeException(nameof(hidden), "batch and hidden must be ≥ 1");
        if (!(rho >= 0 && rho < 1)) throw new ArgumentOutOfRangeException(nameof(rho), rho, "ρ = ||W||₂² must lie in [0, 1)");
        var rng = new Random(seed);
        var q = OrthogonalByReflections(rng, hidden, reflections: 8);
        // Columns of Q scaled by s: M = (Q·diag s)(Q·diag s)ᵀ, one GEMM on the device.
        var scaled = new T[hidden * hidden];
        for (int i = 0; i < hidden; i++)
            for (int j = 0; j < hidden; j++)
                scaled[i * hidden + j] = T.CreateChecked(q[i * hidden + j] * Math.Sqrt(rho) * (j + 1) / hidden);
        using var factor = device.FromArray<T>(scaled, hidden, hidden);
        Metric = device.Allocate<T>(hidden, hidden);
        device.Gemm(MatrixOp.None, MatrixOp.Transpose, T.One, factor, factor, T.Zero, Metric);
        var c = new T[batch * hidden];
        for (int i = 0; i < c.Length; i++) c[i] = T.CreateChecked(Gaussian(rng));
        Injection = device.FromArray<T>(c, batch, hidden);
        Map = new OptEqMap<T>(activation, Metric, Injection, rho);
        Rho = rho;
    }

    public Tensor<T> Metric { get; }
    public Tensor<T> Injection { get; }
    public OptEqMap<T> Map { get; }
    public double Rho { get; }

    private static double Gaussian(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    /// <summary>Q = H₁⋯H_r with Hᵢ = I − 2vvᵀ/vᵀv for random v: orthogonal and dense, in O(r·d²).</summary>
    private static double[] OrthogonalByReflections(Random rng, int d, int reflections)
    {
        var q = new double[d * d];
        for (int i = 0; i < d; i++) q[i * d + i] = 1;
        var v = new double[d];
        var w = new double[d];
        for (int r = 0; r < reflections; r++)
        {
            double norm = 0;
            for (int i = 0; i < d; i++) { v[i] = Gaussian(rng); norm += v[i] * v[i]; }
            // Q ← Q·H = Q − (2/vᵀv)(Q v) vᵀ
            for (int i = 0; i < d; i++)
            {
                double s = 0;
                for (int j = 0; j < d; j++) s += q[i * d + j] * v[j];
                w[i] = 2 * s / norm;
            }
            for (int i = 0; i < d; i++)
                for (int j = 0; j < d; j++) q[i * d + j] -= w[i] * v[j];
        }
        return q;
    }

    public void Dispose()
    {
        Map.Dispose();
        Metric.Dispose();
        Injection.Dispose();
    }
}
