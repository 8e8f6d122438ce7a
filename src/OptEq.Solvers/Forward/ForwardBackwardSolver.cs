namespace OptEq.Solvers.Forward;

/// <summary>
/// Forward–backward splitting for monotone-operator equilibria (MATH.md §3): z ← prox^α_f((1 − α)z + α(K z + c)).
/// Converges for α ≤ 2m/L² (m the monotonicity margin, L = ||I − K||). The residual tracked is ||T(z) − z||,
/// the same as for every other solver, so iteration counts compare.
/// </summary>
public sealed class ForwardBackwardSolver : ForwardSolver
{
    public override SolverKind Kind => SolverKind.ForwardBackward;

    protected override SolverResult<T> Run<T>(IFixedPointMap<T> map, Tensor<T> z0, SolverOptions options)
    {
        if (map is not ISplittingMap<T> splitting)
            throw new ArgumentException("forward-backward needs a splitting map (σ(K z + c) with K and c known); use anderson or picard for this map");
        var device = map.Device;
        var z = device.Pool.Rent<T>(map.Batch, map.Dimension);
        var fz = device.Pool.Rent<T>(map.Batch, map.Dimension);
        using var tracker = new ConvergenceTracker<T>(device, z0, options);
        double alpha = options.SplittingStep;
        try
        {
            device.Copy(z0, z);
            for (int k = 0; k < options.MaxIterations; k++)
            {
                map.Apply(z, fz);
                tracker.Observe(k, z, fz);
                if (tracker.AllStopped(k)) break;
                splitting.ForwardStep(z, alpha, fz);
                splitting.ScaledProx(fz, alpha, fz);
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
