namespace OptEq.Solvers;

/// <summary>
/// What the implicit backward pass needs of a map: vector–Jacobian products (∂T/∂z)ᵀ·w at the equilibrium.
/// The adjoint equation is w = (∂T/∂z)ᵀ·w + g (g = ∂ℓ/∂z*); parameter gradients then follow from w.
/// </summary>
public interface IAdjointMap<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    Device Device { get; }
    int Batch { get; }
    int Dimension { get; }

    /// <summary>Fixes the point z* at which the Jacobian is taken (computes what the products need, once).</summary>
    void PrepareAdjoint(Tensor<T> equilibrium);

    /// <summary>result ← (∂T/∂z)ᵀ·w at the prepared z*.</summary>
    void VectorJacobianProduct(Tensor<T> w, Tensor<T> result);

    /// <summary>
    /// result ← (∂T/∂z)ᵀ·w + g: one application of the adjoint fixed-point map. Maps with a fused kernel override it;
    /// the default is the product, then an axpby.
    /// </summary>
    void VectorJacobianProductPlus(Tensor<T> w, Tensor<T> g, Tensor<T> result)
    {
        VectorJacobianProduct(w, result);
        Device.Axpby(T.One, result, T.One, g, result);
    }
}

/// <summary>
/// An adjoint map of T(z) = σ(z·Kᵀ + c) with K symmetric positive semidefinite (OptEq's M = WᵀW): the adjoint
/// (∂T/∂z)ᵀ = K·J with J = diag σ′ ⪰ 0 has the symmetric form the conjugate-gradient adjoint solves (docs/math.md §1.6).
/// </summary>
public interface ISymmetricAdjointMap<T> : IAdjointMap<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>result ← K·v + β·result row by row (K symmetric PSD; a dense map runs one GEMM, an operator map its operator).</summary>
    void ApplyMetric(Tensor<T> v, Tensor<T> result, T beta);

    /// <summary>J = σ′ at the prepared z*, [batch, d], entries ≥ 0.</summary>
    Tensor<T> Jacobian { get; }
}
