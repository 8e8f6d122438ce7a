namespace OptEq.Solvers;

/// <summary>A batched map T on [batch, dimension] tensors, one sample per row; rows never mix.</summary>
public interface IFixedPointMap<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    Device Device { get; }
    int Batch { get; }
    int Dimension { get; }

    /// <summary>result ← T(z). result and z are distinct [Batch, Dimension] tensors.</summary>
    void Apply(Tensor<T> z, Tensor<T> result);
}

/// <summary>A map that is a contraction (or non-expansive) with a known Lipschitz bound ρ; gives the certificate ||z − z*|| ≤ ||T(z) − z|| / (1 − ρ).</summary>
public interface IContractiveMap<T> : IFixedPointMap<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>ρ with ||T(a) − T(b)|| ≤ ρ·||a − b||; the certificate needs ρ &lt; 1.</summary>
    double LipschitzBound { get; }
}

/// <summary>A map whose fixed points minimise an objective G (OptEq): T is a proximal-gradient step on G.</summary>
public interface IObjectiveMap<T> : IFixedPointMap<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>objective[i] ← G(z[i]) for every sample; +∞ outside the domain of f.</summary>
    void Objective(Tensor<T> z, Tensor<T> objective);
}

/// <summary>
/// A map T(z) = σ(z·Kᵀ + c) whose equilibria the splitting methods solve: they need the weight K, the injection c,
/// and prox of α·f (the activation's penalty scaled by the step).
/// </summary>
public interface ISplittingMap<T> : IForwardBackwardMap<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>result ← u·(I + α(I − K))⁻ᵀ applied row-wise to (u + α·c), i.e. the resolvent step of Peaceman–Rachford. The inverse is cached per α.</summary>
    void Resolvent(Tensor<T> u, double alpha, Tensor<T> result);
}

/// <summary>
/// A map T(z) = σ(K z + c) that forward–backward splitting solves: the forward step with K and c, and prox of α·f. Maps
/// with a structured K (a convolution operator) give these without the dense resolvent Peaceman–Rachford needs.
/// </summary>
public interface IForwardBackwardMap<T> : IFixedPointMap<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>result ← (1 − α)z + α(z·Kᵀ + c), the forward step of forward–backward splitting.</summary>
    void ForwardStep(Tensor<T> z, double alpha, Tensor<T> result);

    /// <summary>result ← prox_{α f}(u).</summary>
    void ScaledProx(Tensor<T> u, double alpha, Tensor<T> result);
}
