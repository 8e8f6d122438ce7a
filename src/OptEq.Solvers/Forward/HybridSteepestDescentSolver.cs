namespace OptEq.Solvers.Forward;

/// <summary>
/// Hybrid steepest descent z_{k+1} = T(z_k) − λ_{k+1}·μ·∇h(T(z_k)), λ_k = 1/(k + 1): converges to the minimiser of a
/// strongly convex prior h over the fixed-point set (docs/math.md §1.5). The prior here is h(z) = ½||z − a||² with the
/// anchor a = z0 (so ∇h(v) = v − a), i.e. the fixed point nearest z0; μ is <see cref="SolverOptions.PriorStrength"/>.
/// </summary>
public sealed class HybridSteepestDescentSolver : StepSolver
{
    public override string Name => "hybrid-steepest-descent";

    protected override void Step<T>(IFixedPointMap<T> map, int k, Tensor<T> z0, Tensor<T> z, Tensor<T> fz, SolverOptions options)
    {
        // T(z) − λμ(T(z) − a) = (1 − λμ)·T(z) + λμ·a
        T step = T.CreateChecked(options.PriorStrength) / T.CreateChecked(k + 2);
        map.Device.Axpby(step, z0, T.One - step, fz, fz);
    }
}
