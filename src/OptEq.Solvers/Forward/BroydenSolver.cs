namespace OptEq.Solvers.Forward;

/// <summary>
/// Limited-memory ("good") Broyden on g(z) = T(z) − z, per sample. The inverse Jacobian estimate is
/// B = −I + Σᵢ uᵢvᵢᵀ with at most m = BroydenRank rank-one terms (bounded rank). When all m are used the estimate restarts from
/// B = −I: overwriting only the oldest term breaks the secant conditions the others were built on, and was seen to
/// diverge where restarting converges.
/// Step: z ← z − B·g. Update with Δz, Δg: u = (Δz − BΔg)/(vᵀΔg), v = Bᵀ Δz. Unit step, no line search.
/// </summary>
public sealed class BroydenSolver : ForwardSolver
{
    public override string Name => "broyden";

    protected override SolverResult<T> Run<T>(IFixedPointMap<T> map, Tensor<T> z0, SolverOptions options)
    {
        var device = map.Device;
        var pool = device.Pool;
        int batch = map.Batch, d = map.Dimension, m = options.BroydenRank;
        var z = pool.Rent<T>(batch, d);
        var fz = pool.Rent<T>(batch, d);
        var g = pool.Rent<T>(batch, d);         // g(z)
        var gPrev = pool.Rent<T>(batch, d);
        var dz = pool.Rent<T>(batch, d);        // the last step
        var dg = pool.Rent<T>(batch, d);
        var bdg = pool.Rent<T>(batch, d);       // B·Δg
        var vt = pool.Rent<T>(batch, d);        // Bᵀ·Δz
        var candidate = pool.Rent<T>(batch, d);
        var u = pool.Rent<T>(batch, m * d);
        var v = pool.Rent<T>(batch, m * d);
        var coef = pool.Rent<T>(batch, m);
        var den = pool.Rent<T>(batch); var scale = pool.Rent<T>(batch); var ones = pool.Rent<T>(batch); var zeros = pool.Rent<T>(batch);
        using var tracker = ConvergenceTracker<T>.Rent(device, z0, options);
        try
        {
            device.Fill(u, T.Zero);
            device.Fill(v, T.Zero);
            device.Fill(ones, T.One);
            device.Fill(zeros, T.Zero);
            device.Copy(z0, z);
            var u3 = u.Reshape(batch, m, d);
            var v3 = v.Reshape(batch, m, d);
            var coef3 = coef.Reshape(batch, 1, m);
            var uSlots = new Tensor<T>[m];
            var vSlots = new Tensor<T>[m];
            for (int i = 0; i < m; i++) { uSlots[i] = u.SliceColumns(i * d, d); vSlots[i] = v.SliceColumns(i * d, d); }
            var q3 = bdg.Reshape(batch, 1, d);
            var vt3 = vt.Reshape(batch, 1, d);
            var dz3 = dz.Reshape(batch, 1, d);
            var dg3 = dg.Reshape(batch, 1, d);
            var g3 = g.Reshape(batch, 1, d);

            for (int k = 0; k < options.MaxIterations; k++)
            {
                map.Apply(z, fz);
                tracker.Observe(k, z, fz);
                if (tracker.AllStopped(k)) break;
                device.Axpby(T.One, fz, -T.One, z, g);
                if (k > 0)
                {
                    // Δg, then B·Δg = −Δg + U(VᵀΔg) and Bᵀ·Δz = −Δz + V(UᵀΔz), then the rank-one term.
                    device.Axpby(T.One, g, -T.One, gPrev, dg);
                    device.Gemm(MatrixOp.None, MatrixOp.Transpose, T.One, dg3, v3, T.Zero, coef3);
                    device.Gemm(MatrixOp.None, MatrixOp.None, T.One, coef3, u3, T.Zero, q3);
                    device.Axpby(-T.One, dg, T.One, bdg, bdg);
                    device.Gemm(MatrixOp.None, MatrixOp.Transpose, T.One, dz3, u3, T.Zero, coef3);
                    device.Gemm(MatrixOp.None, MatrixOp.None, T.One, coef3, v3, T.Zero, vt3);
                    device.Axpby(-T.One, dz, T.One, vt, vt);
                    device.RowReduce(RowReduction.Dot, vt, dg, den);
                    device.Map(new SafeDivide<T>(), scale, ones, den);
                    int slot = (k - 1) % m;
                    if (slot == 0 && k > 1) { device.Fill(u, T.Zero); device.Fill(v, T.Zero); }
                    device.Axpby(T.One, dz, -T.One, bdg, uSlots[slot]);
                    device.RowAxpby(scale, uSlots[slot], zeros, uSlots[slot], uSlots[slot]);
                    device.Copy(vt, vSlots[slot]);
                }
                // Step Δz = −B·g = g − U(Vᵀg).
                device.Gemm(MatrixOp.None, MatrixOp.Transpose, T.One, g3, v3, T.Zero, coef3);
                device.Gemm(MatrixOp.None, MatrixOp.None, T.One, coef3, u3, T.Zero, q3);
                device.Axpby(T.One, g, -T.One, bdg, dz);
                device.Axpby(T.One, z, T.One, dz, candidate);
                // Frozen samples do not move, so their Δz is zero and their next update term vanishes.
                device.RowAxpby(tracker.Active, dz, zeros, dz, dz);
                tracker.Freeze(candidate, z);
                device.Copy(g, gPrev);
            }
            return tracker.Finish(Name, device.Pool.Rent<T>(batch, d), memory: m);
        }
        finally
        {
            foreach (var t in new[] { z, fz, g, gPrev, dz, dg, bdg, vt, candidate, u, v, coef, den, scale, ones, zeros }) pool.Return(t);
        }
    }
}
