namespace OptEq.Solvers.Forward;

/// <summary>
/// Peaceman–Rachford splitting (docs/math.md §3): u½ = 2z − u; z½ = V(u½ + αc); u = 2z½ − u½; z = prox^α_f(u), with
/// V = (I + α(I − K))⁻¹ computed once per weight (cached by the map). Converges for every α &gt; 0 on monotone maps.
/// The residual tracked is ||T(z) − z||.
/// </summary>
public sealed class PeacemanRachfordSolver : ForwardSolver
{
    public override string Name => "peaceman-rachford";

    protected override SolverResult<T> Run<T>(IFixedPointMap<T> map, Tensor<T> z0, SolverOptions options)
    {
        if (map is not ISplittingMap<T> splitting)
            throw new ArgumentException("peaceman-rachford needs a splitting map (σ(K z + c) with K and c known); use anderson or picard for this map");
        var device = map.Device;
        var pool = device.Pool;
        int batch = map.Batch, d = map.Dimension;
        var z = pool.Rent<T>(batch, d);
        var u = pool.Rent<T>(batch, d);
        var half = pool.Rent<T>(batch, d);
        var zHalf = pool.Rent<T>(batch, d);
        var fz = pool.Rent<T>(batch, d);
        var uNext = pool.Rent<T>(batch, d);
        using var tracker = ConvergenceTracker<T>.Rent(device, z0, options);
        double alpha = options.SplittingStep;
        T two = T.One + T.One;
        try
        {
            device.Copy(z0, z);
            device.Copy(z0, u);
            for (int k = 0; k < options.MaxIterations; k++)
            {
                map.Apply(z, fz);
                tracker.Observe(k, z, fz);
                if (tracker.AllStopped(k)) break;
                device.Axpby(two, z, -T.One, u, half);             // u½ = 2z − u
                splitting.Resolvent(half, alpha, zHalf);           // z½ = V(u½ + αc)
                device.Axpby(two, zHalf, -T.One, half, uNext);     // u = 2z½ − u½
                splitting.ScaledProx(uNext, alpha, fz);            // z = prox(u)
                tracker.Freeze(uNext, u);
                tracker.Freeze(fz, z);
            }
            return tracker.Finish(Name, device.Pool.Rent<T>(batch, d));
        }
        finally
        {
            foreach (var t in new[] { z, u, half, zHalf, fz, uNext }) pool.Return(t);
        }
    }
}
