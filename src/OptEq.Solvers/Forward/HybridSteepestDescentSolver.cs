namespace OptEq.Solvers.Forward;

/// <summary>
/// Hybrid steepest descent z_{k+1} = T(z_k) − λ_{k+1}·μ·∇h(T(z_k)), λ_k = 1/(k + 1): converges to the minimiser of a
/// strongly convex prior h over the fixed-point set (MATH.md §1.5). The prior here is h(z) = ½||z − a||² with the
/// anchor a = z0 (so ∇h(v) = v − a), i.e. the fixed point nearest z0; μ is <see cref="SolverOptions.PriorStrength"/>.
/// </summary>
public sealed class HybridSteepestDescentSolver : ForwardSolver
{
    public override SolverKind Kind => SolverKind.HybridSteepestDescent;

    protected override SolverResult<T> Run<T>(IFixedPointMap<T> map, Tensor<T> z0, SolverOptions options)
    {
        var device = map.Device;
        var z = device.Pool.Rent<T>(map.Batch, map.Dimension);
        var fz = device.Pool.Rent<T>(map.Batch, map.Dimension);
        using var tracker = new ConvergenceTracker<T>(device, z0, options);
        T mu = T.CreateChecked(options.PriorStrength);
        try
        {
            device.Copy(z0, z);
            for (int k = 0; k < options.MaxIterations; k++)
            {
                map.Apply(z, fz);
                tracker.Observe(k, z, fz);
                if (tracker.AllStopped(k)) break;
                // T(z) − λμ(T(z) − a) = (1 − λμ)·T(z) + λμ·a
                T step = mu / T.CreateChecked(k + 2);
                device.Axpby(step, z0, T.One - step, fz, fz);
                tracker.Freeze(fz, z);
            }
            return tracker.Finish(Name(Kind), device.Allocate<T>(map.Batch, map.Dimension));
        }
        finally
        {
            device.Pool.Return(z);
            device.Pool.Return(fz);
        }
    }
}
