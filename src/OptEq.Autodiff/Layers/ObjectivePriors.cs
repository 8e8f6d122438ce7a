using OptEq.Kernels.Activations;

namespace OptEq.Autodiff.Layers;

/// <summary>
/// Terms added to the OptEq objective G(z) = Σf(z) + ½||z||² − ½zᵀMz − ⟨c, z⟩ (docs/math.md §1.4). The layer derives its
/// fixed-point map from them in <see cref="Derive"/>; nothing else in the layer changes.
/// </summary>
public sealed record ObjectivePriors
{
    /// <summary>(λ/2)||z||²: z = prox_{f/(1+λ)}((Mz + c)/(1+λ)).</summary>
    public double L2 { get; init; }
    /// <summary>λ||z||₁ (sparse equilibria); closed form for ReLU-type and soft-threshold activations.</summary>
    public double L1 { get; init; }
    /// <summary>z ∈ [lo, hi]: f ← f + ι_box, σ becomes σ clamped to the box.</summary>
    public (double Lo, double Hi)? Box { get; init; }
    /// <summary>(μ/2)||P z − q||² with P [p, d] and q [p] (row-major host arrays): adds −μPᵀP to M and μPᵀq to c.</summary>
    public (double Mu, double[] P, double[] Q, int Rows)? Quadratic { get; init; }

    public bool IsEmpty => L2 == 0 && L1 == 0 && Box is null && Quadratic is null;

    /// <summary>
    /// The effective map z = σ′(z·K′ᵀ + c′) with K′ = (M − μPᵀP)/(1 + λ₂), c′ = (c − λ₁ + μ·qP)/(1 + λ₂),
    /// σ′ = prox of (f + λ₁|·| + ι_box)/(1 + λ₂), and its Lipschitz bound ρ′ = max(ρ, μ||P||²)/(1 + λ₂).
    /// </summary>
    public (Activation Activation, double Scale, double Shift, double Rho) Derive(Activation activation, double rho, double quadraticNorm)
    {
        if (L2 < 0 || L1 < 0) throw new ArgumentOutOfRangeException(nameof(L2), "prior weights must be ≥ 0");
        double scale = 1 / (1 + L2);
        var sigma = activation;
        double shift = 0;
        if (L1 > 0)
        {
            if (activation.Kind == ActivationKind.SoftThreshold) sigma = Activation.SoftThreshold(activation.Parameter + L1);
            else if (activation.Kind == ActivationKind.ReLU) shift = -L1; // on z ≥ 0, λ|z| = λz: a shift of c
            else throw new NotSupportedException($"an ℓ1 prior has a closed form with relu or soft-threshold, not with {activation}");
        }
        sigma = sigma.Scaled(scale);
        if (Box is var (lo, hi)) sigma = sigma.Clip(lo, hi);
        double quadratic = Quadratic is null ? 0 : Quadratic.Value.Mu * quadraticNorm;
        return (sigma, scale, shift, Math.Max(rho, quadratic) * scale);
    }
}
