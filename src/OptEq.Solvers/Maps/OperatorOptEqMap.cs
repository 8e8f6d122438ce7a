using OptEq.Kernels.Activations;
using OptEq.Solvers.Operators;

namespace OptEq.Solvers.Maps;

/// <summary>
/// The OptEq map with a structured W (docs/math.md §1.2, §1.7): T(z) = σ(WᵀW z + c) with W a linear operator (a
/// convolution, or the block-bidiagonal operator of a multi-tier model), ||W||₂² ≤ ρ. As <see cref="OptEqMap{T}"/>: its
/// fixed points minimise G(z) = Σᵢ f(zᵢ) + ½||z||² − ½||W z||² − ⟨c, z⟩ (FISTA applies), T is ρ-Lipschitz (the
/// certificate), and the adjoint is symmetric (the CG adjoint applies, one W and one Wᵀ per CG step).
/// </summary>
public sealed class OperatorOptEqMap<T> : OperatorActivationMap<T>, IObjectiveMap<T>, IContractiveMap<T>, ISymmetricAdjointMap<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Tensor<T> _penalty, _sumF, _norm, _quadratic, _linear;

    /// <param name="root">W (any shape d → d′); the map's K is WᵀW.</param>
    /// <param name="injection">c, [batch, d].</param>
    /// <param name="spectralNormSquared">ρ ≥ ||W||₂² (known to the caller from the reparameterisation).</param>
    public OperatorOptEqMap(Activation activation, ILinearOperator<T> root, Tensor<T> injection, double spectralNormSquared)
        : this(activation, new GramOperator<T>(root, injection.Shape[0]), injection, spectralNormSquared)
    {
    }

    // A named factory rather than a public constructor overload: a Gram operator is also an ILinearOperator, and passing
    // one as W to the other constructor keeps meaning K = (WᵀW)ᵀ(WᵀW).
    /// <summary>
    /// The map with K = WᵀW applied by <paramref name="metric"/> (two convolutions, cache-blocked, the Fourier domain:
    /// <see cref="GramMethods.Create{T}"/>); the map owns and disposes it. The caller refreshes the metric after each
    /// rewrite of W's weights (<see cref="IGramOperator{T}.Refresh"/>).
    /// </summary>
    /// <param name="injection">c, [batch, d].</param>
    /// <param name="spectralNormSquared">ρ ≥ ||W||₂² (known to the caller from the reparameterisation).</param>
    public static OperatorOptEqMap<T> WithMetric(Activation activation, IGramOperator<T> metric, Tensor<T> injection, double spectralNormSquared)
    {
        ArgumentNullException.ThrowIfNull(metric);
        return new(activation, metric, injection, spectralNormSquared);
    }

    private OperatorOptEqMap(Activation activation, IGramOperator<T> metric, Tensor<T> injection, double spectralNormSquared)
        : base(activation, metric, injection)
    {
        if (!(spectralNormSquared >= 0) || !double.IsFinite(spectralNormSquared))
            throw new ArgumentOutOfRangeException(nameof(spectralNormSquared), spectralNormSquared, "ρ = ||W||₂² must be finite and ≥ 0");
        LipschitzBound = spectralNormSquared;
        var pool = Device.Pool;
        _penalty = pool.Rent<T>(Batch, Dimension);
        _sumF = pool.Rent<T>(Batch); _norm = pool.Rent<T>(Batch); _quadratic = pool.Rent<T>(Batch); _linear = pool.Rent<T>(Batch);
    }

    /// <summary>K = WᵀW.</summary>
    public IGramOperator<T> Metric => (IGramOperator<T>)Operator;
    /// <summary>W.</summary>
    public ILinearOperator<T> Root => Metric.Root;

    public double LipschitzBound { get; }

    public void ApplyMetric(Tensor<T> v, Tensor<T> result, T beta) => Operator.Apply(v, result, beta);

    /// <summary>G per sample, with zᵀMz = ||W z||².</summary>
    public void Objective(Tensor<T> z, Tensor<T> objective)
    {
        PenaltyLaunch<T>.Run(Activation, Device, z, _penalty);
        Device.RowReduce(RowReduction.Sum, _penalty, null, _sumF);
        Device.RowReduce(RowReduction.SquaredNorm, z, null, _norm);
        Device.RowReduce(RowReduction.SquaredNorm, Metric.ApplyRoot(z), null, _quadratic);
        Device.RowReduce(RowReduction.Dot, Injection, z, _linear);
        Device.Map(new ObjectiveParts<T>(), objective, _sumF, _norm, _quadratic, _linear);
    }

    public override void Dispose()
    {
        var pool = Device.Pool;
        pool.Return(_penalty); pool.Return(_sumF); pool.Return(_norm); pool.Return(_quadratic); pool.Return(_linear);
        Metric.Dispose();
        base.Dispose();
    }
}
