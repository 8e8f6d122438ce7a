namespace OptEq.Solvers.Forward;

/// <summary>
/// FISTA with adaptive restart on the objective, for maps that are a proximal-gradient step with step 1 on a convex G
/// (OptEq, docs/math.md §1.2 and §4.4): y = z + β(z − z_prev), z_next = T(y), with per-sample momentum t and a restart (t ← 1,
/// no momentum) whenever G(z_next) &gt; G(z). The residual tracked is ||T(y) − y|| of the extrapolated point y.
/// </summary>
public sealed class FistaSolver : ForwardSolver
{
    public override string Name => "fista";

    protected override SolverResult<T> Run<T>(IFixedPointMap<T> map, Tensor<T> z0, SolverOptions options)
    {
        if (map is not IObjectiveMap<T> objective)
            throw new ArgumentException("fista needs a map with an objective (IObjectiveMap, e.g. an OptEq map); use anderson or picard for this map");
        var device = map.Device;
        var pool = device.Pool;
        int batch = map.Batch, d = map.Dimension;
        var z = pool.Rent<T>(batch, d);
        var zPrev = pool.Rent<T>(batch, d);
        var y = pool.Rent<T>(batch, d);
        var fy = pool.Rent<T>(batch, d);
        var t = pool.Rent<T>(batch); var tNext = pool.Rent<T>(batch);
        var gOld = pool.Rent<T>(batch); var gNew = pool.Rent<T>(batch);
        var onePlus = pool.Rent<T>(batch); var minus = pool.Rent<T>(batch); var momentum = pool.Rent<T>(batch);
        using var tracker = ConvergenceTracker<T>.Rent(device, z0, options);
        try
        {
            device.Copy(z0, z);
            device.Copy(z0, zPrev);
            device.Copy(z0, y);
            device.Fill(t, T.One);
            device.Fill(gOld, T.PositiveInfinity); // the first step never restarts
            for (int k = 0; k < options.MaxIterations; k++)
            {
                map.Apply(y, fy);
                tracker.Observe(k, y, fy);
                if (tracker.AllStopped(k)) break;
                objective.Objective(fy, gNew);
                device.Map(new FistaNextT<T>(), tNext, t, gNew, gOld);
                device.Map(new FistaMomentum<T>(), momentum, t, tNext);
                device.Copy(z, zPrev);
                device.Copy(fy, z);
                // y = (1 + β)·z − β·z_prev, per sample.
                device.Map(new Affine<T>(T.One, T.One), onePlus, momentum);
                device.Map(new Affine<T>(-T.One, T.Zero), minus, momentum);
                device.RowAxpby(onePlus, z, minus, zPrev, fy);
                tracker.Freeze(fy, y);
                device.Copy(tNext, t);
                device.Copy(gNew, gOld);
            }
            return tracker.Finish(Name, device.Pool.Rent<T>(batch, d));
        }
        finally
        {
            foreach (var b in new[] { z, zPrev, y, fy, t, tNext, gOld, gNew, onePlus, minus, momentum }) pool.Return(b);
        }
    }
}
