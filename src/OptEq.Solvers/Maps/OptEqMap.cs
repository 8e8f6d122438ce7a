using OptEq.Kernels.Activations;

namespace OptEq.Solvers.Maps;

/// <summary>
/// The OptEq map T(z) = σ(M·z + c) with M = WᵀW, ||W||₂ ≤ 1 (docs/math.md §1.2). Its fixed points minimise
/// G(z) = Σᵢ f(zᵢ) + ½||z||² − ½||W z||² − ⟨c, z⟩, T is proximal gradient on G with step 1, and T is
/// ρ-Lipschitz with ρ = ||W||₂², which gives the certificate ||z − z*|| ≤ ||T(z) − z|| / (1 − ρ).
/// </summary>
public sealed class OptEqMap<T> : AffineActivationMap<T>, IObjectiveMap<T>, IContractiveMap<T>, ISymmetricAdjointMap<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Tensor<T> _penalty, _mz, _sumF, _norm, _quadratic, _linear;

    /// <param name="metric">M = WᵀW, [d, d] (symmetric positive semidefinite).</param>
    /// <param name="spectralNormSquared">ρ = ||W||₂² = ||M||₂ (known to the caller, or from <see cref="SpectralNormSquared"/>).</param>
    public OptEqMap(Activation activation, Tensor<T> metric, Tensor<T> injection, double spectralNormSquared)
        : base(activation, metric, injection)
    {
        if (!(spectralNormSquared >= 0) || !double.IsFinite(spectralNormSquared))
            throw new ArgumentOutOfRangeException(nameof(spectralNormSquared), spectralNormSquared, "ρ = ||W||₂² must be finite and ≥ 0");
        LipschitzBound = spectralNormSquared;
        var pool = Device.Pool;
        _penalty = pool.Rent<T>(Batch, Dimension);
        _mz = pool.Rent<T>(Batch, Dimension);
        _sumF = pool.Rent<T>(Batch); _norm = pool.Rent<T>(Batch); _quadratic = pool.Rent<T>(Batch); _linear = pool.Rent<T>(Batch);
    }

    /// <summary>Builds M = WᵀW (W: [k, d]) on the device and ρ = ||W||₂² by power iteration; the caller owns M and must keep it alive.</summary>
    public static Tensor<T> Metric(Tensor<T> w)
    {
        var m = w.Device.Allocate<T>(w.Shape[1], w.Shape[1]);
        w.Device.Gemm(MatrixOp.Transpose, MatrixOp.None, T.One, w, w, T.Zero, m);
        return m;
    }

    /// <summary>||M||₂ of a symmetric PSD matrix by power iteration in float64 on the host (a setup step, not per iteration).</summary>
    public static double SpectralNormSquared(Tensor<T> metric, int iterations = 200)
        => SpectralNormSquaredOf(metric.ToArray().Select(double.CreateChecked).ToArray(), metric.Shape[0], iterations);

    /// <summary>||M||₂ of a symmetric PSD [d, d] host matrix by power iteration.</summary>
    public static double SpectralNormSquaredOf(double[] m, int d, int iterations = 200)
    {
        var v = Enumerable.Range(0, d).Select(i => 1.0 + 0.01 * i).ToArray();
        double lambda = 0;
        var next = new double[d];
        for (int it = 0; it < iterations; it++)
        {
            for (int i = 0; i < d; i++) { double s = 0; for (int j = 0; j < d; j++) s += m[i * d + j] * v[j]; next[i] = s; }
            double norm = Math.Sqrt(next.Sum(x => x * x));
            if (norm == 0) return 0;
            lambda = norm / Math.Sqrt(v.Sum(x => x * x));
            for (int i = 0; i < d; i++) v[i] = next[i] / norm;
        }
        return lambda;
    }

    public double LipschitzBound { get; }

    /// <summary>result ← v·Mᵀ + β·result (one GEMM; M symmetric).</summary>
    public void ApplyMetric(Tensor<T> v, Tensor<T> result, T beta) => Device.Gemm(MatrixOp.None, MatrixOp.Transpose, T.One, v, Weight, beta, result);

    public void Objective(Tensor<T> z, Tensor<T> objective)
    {
        PenaltyLaunch<T>.Run(Activation, Device, z, _penalty);
        Device.RowReduce(RowReduction.Sum, _penalty, null, _sumF);
        Device.RowReduce(RowReduction.SquaredNorm, z, null, _norm);
        Device.Gemm(MatrixOp.None, MatrixOp.Transpose, T.One, z, Weight, T.Zero, _mz);
        Device.RowReduce(RowReduction.Dot, z, _mz, _quadratic);
        Device.RowReduce(RowReduction.Dot, Injection, z, _linear);
        Device.Map(new ObjectiveParts<T>(), objective, _sumF, _norm, _quadratic, _linear);
    }

    public override void Dispose()
    {
        var pool = Device.Pool;
        pool.Return(_penalty); pool.Return(_mz); pool.Return(_sumF); pool.Return(_norm); pool.Return(_quadratic); pool.Return(_linear);
        base.Dispose();
    }
}
