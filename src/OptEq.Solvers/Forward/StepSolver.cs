namespace OptEq.Solvers.Forward;

/// <summary>
/// The loop of the solvers whose next iterate depends only on z, T(z) and z0 (Picard/KM, Halpern, hybrid steepest
/// descent, forward–backward): evaluate, record the residual, stop when every sample has, else take the step for the
/// samples still running. Each solver is its <see cref="Step{T}"/>.
/// </summary>
public abstract class StepSolver : ForwardSolver
{
    /// <summary>Writes the next iterate into <paramref name="fz"/> (which holds T(z) on entry) for iteration k.</summary>
    protected abstract void Step<T>(IFixedPointMap<T> map, int k, Tensor<T> z0, Tensor<T> z, Tensor<T> fz, SolverOptions options)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>Checks the map before the loop (e.g. that it has the structure a splitting method needs).</summary>
    protected virtual void Validate<T>(IFixedPointMap<T> map) where T : unmanaged, IFloatingPointIeee754<T> { }

    protected sealed override SolverResult<T> Run<T>(IFixedPointMap<T> map, Tensor<T> z0, SolverOptions options)
    {
        Validate(map);
        var device = map.Device;
        var z = device.Pool.Rent<T>(map.Batch, map.Dimension);
        var fz = device.Pool.Rent<T>(map.Batch, map.Dimension);
        using var tracker = ConvergenceTracker<T>.Rent(device, z0, options);
        try
        {
            device.Copy(z0, z);
            for (int k = 0; k < options.MaxIterations; k++)
            {
                map.Apply(z, fz);
                tracker.Observe(k, z, fz);
                if (tracker.AllStopped(k)) break;
                Step(map, k, z0, z, fz, options);
                tracker.Freeze(fz, z);
            }
            return tracker.Finish(Name, device.Pool.Rent<T>(map.Batch, map.Dimension));
        }
        finally
        {
            device.Pool.Return(z);
            device.Pool.Return(fz);
        }
    }
}
