namespace OptEq.Solvers.Forward;

/// <summary>Picard / Krasnosel'skii–Mann: z ← (1 − τ)z + τ·T(z). For OptEq (τ = 1) this is proximal gradient on G.</summary>
public sealed class PicardSolver : ForwardSolver
{
    public override SolverKind Kind => SolverKind.Picard;

    protected override SolverResult<T> Run<T>(IFixedPointMap<T> map, Tensor<T> z0, SolverOptions options)
    {
        var device = map.Device;
        var z = device.Pool.Rent<T>(map.Batch, map.Dimension);
        var fz = device.Pool.Rent<T>(map.Batch, map.Dimension);
        using var tracker = new ConvergenceTracker<T>(device, z0, options);
        T tau = T.CreateChecked(options.Damping);
        try
        {
            device.Copy(z0, z);
            for (int k = 0; k < options.MaxIterations; k++)
            {
                map.Apply(z, fz);
                tracker.Observe(k, z, fz);
                if (tracker.AllStopped(k)) break;
                if (tau != T.One) device.Axpby(T.One - tau, z, tau, fz, fz);
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
