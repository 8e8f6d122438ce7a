namespace OptEq.Solvers.Forward;

/// <summary>
/// Forward–backward splitting for monotone-operator equilibria (docs/math.md §3): z ← prox^α_f((1 − α)z + α(K z + c)).
/// Converges for α ≤ 2m/L² (m the monotonicity margin, L = ||I − K||). The residual tracked is ||T(z) − z||,
/// the same as for every other solver, so iteration counts compare.
/// </summary>
public sealed class ForwardBackwardSolver : StepSolver
{
    public override string Name => "forward-backward";

    protected override void Validate<T>(IFixedPointMap<T> map)
    {
        if (map is not IForwardBackwardMap<T>)
            throw new ArgumentException("forward-backward needs a forward–backward map (σ(K z + c) with K and c known); use anderson or picard for this map");
    }

    protected override void Step<T>(IFixedPointMap<T> map, int k, Tensor<T> z0, Tensor<T> z, Tensor<T> fz, SolverOptions options)
    {
        var splitting = (IForwardBackwardMap<T>)map;
        splitting.ForwardStep(z, options.SplittingStep, fz);
        splitting.ScaledProx(fz, options.SplittingStep, fz);
    }
}
