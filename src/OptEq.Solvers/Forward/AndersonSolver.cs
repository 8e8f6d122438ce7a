namespace OptEq.Solvers.Forward;

/// <summary>
/// Anderson acceleration, type II, per sample (docs/math.md §4.2). Keeps the last m iterates X and residuals R = T(X) − X in
/// ring buffers; each step solves the bordered system [0 1ᵀ; 1 RRᵀ + λI]·[ν; α] = [1; 0] for every sample and mixes
/// z ← Σ αᵢ (Xᵢ + β·Rᵢ). A sample whose small system is singular or non-finite takes a plain step T(z) instead.
/// Per iteration: the map, one fused update (ring slot, the Gram matrix's new row, residual norms), the tracker, the
/// small systems, one fused mix. Everything stays on the device.
/// </summary>
public sealed class AndersonSolver : ForwardSolver
{
    public override string Name => "anderson";

    protected override SolverResult<T> Run<T>(IFixedPointMap<T> map, Tensor<T> z0, SolverOptions options)
    {
        var device = map.Device;
        var pool = device.Pool;
        int batch = map.Batch, d = map.Dimension, m = options.Memory;
        var z = pool.Rent<T>(batch, d);
        var fz = pool.Rent<T>(batch, d);
        var x = pool.Rent<T>(batch, m, d);           // iterates, a ring of m slots per sample
        var r = pool.Rent<T>(batch, m, d);           // residuals T(x) − x
        var gram = pool.Rent<T>(batch, m, m);        // RRᵀ, one row and column replaced per iteration
        var system = pool.Rent<T>(batch, m + 1, m + 1);
        var rhs = pool.Rent<T>(batch, m + 1);
        var status = pool.Rent<int>(batch);
        var absSquared = pool.Rent<T>(batch);
        var normSquared = pool.Rent<T>(batch);
        using var tracker = ConvergenceTracker<T>.Rent(device, z0, options);
        T beta = T.CreateChecked(options.Mixing), ridge = T.CreateChecked(options.Ridge);
        try
        {
            device.Copy(z0, z);
            for (int k = 0; k < options.MaxIterations; k++)
            {
                map.Apply(z, fz);
                int slot = k % m, used = Math.Min(k + 1, m);
                // One pass: the slot of the ring, the new Gram row and the residual norms the tracker needs.
                device.AndersonUpdate(z, fz, x, r, gram, slot, used, absSquared, normSquared);
                tracker.ObserveResidual(k, fz, absSquared, normSquared);
                if (tracker.AllStopped(k)) break;
                if (used == 1)
                {
                    tracker.Freeze(fz, z);
                    continue;
                }
                device.AndersonSystem(gram, used, ridge, system, rhs);
                device.BatchedSolve(system, rhs, rhs, status);
                // z ← the mix for running samples, T(z) where the small solve failed, unchanged where stopped.
                device.AndersonMix(rhs, status, tracker.Active, x, r, fz, beta, used, z);
            }
            return tracker.Finish(Name, device.Pool.Rent<T>(batch, d), memory: m);
        }
        finally
        {
            pool.Return(z); pool.Return(fz); pool.Return(x); pool.Return(r); pool.Return(gram);
            pool.Return(system); pool.Return(rhs); pool.Return(status); pool.Return(absSquared); pool.Return(normSquared);
        }
    }
}
