namespace OptEq.Solvers.Forward;

/// <summary>
/// Anderson acceleration, type II, per sample (MATH.md §4). Keeps the last m iterates X and residuals R = T(X) − X in
/// ring buffers; each step solves the bordered system [0 1ᵀ; 1 RRᵀ + λI]·[ν; α] = [1; 0] for every sample (batched
/// Gram GEMM, small batched solve) and mixes z ← Σ αᵢ (Xᵢ + β·Rᵢ). A sample whose small system is singular or
/// non-finite takes a plain step T(z) instead. Everything stays on the device.
/// </summary>
public sealed class AndersonSolver : ForwardSolver
{
    public override SolverKind Kind => SolverKind.Anderson;

    protected override SolverResult<T> Run<T>(IFixedPointMap<T> map, Tensor<T> z0, SolverOptions options)
    {
        var device = map.Device;
        var pool = device.Pool;
        int batch = map.Batch, d = map.Dimension, m = options.Memory;
        var z = pool.Rent<T>(batch, d);
        var fz = pool.Rent<T>(batch, d);
        var mixed = pool.Rent<T>(batch, d);
        var x = pool.Rent<T>(batch, m * d);          // iterates, slot i at columns [i·d, (i+1)·d)
        var r = pool.Rent<T>(batch, m * d);          // residuals T(x) − x
        var gram = pool.Rent<T>(batch, m, m);
        var system = pool.Rent<T>(batch, m + 1, m + 1);
        var rhs = pool.Rent<T>(batch, m + 1);
        var status = pool.Rent<int>(batch);
        using var tracker = new ConvergenceTracker<T>(device, z0, options);
        T beta = T.CreateChecked(options.Mixing), ridge = T.CreateChecked(options.Ridge);
        try
        {
            // Unused slots must hold zeros: their weight is 0, and 0·NaN from stale memory would poison the mix.
            device.Fill(x, T.Zero);
            device.Fill(r, T.Zero);
            device.Copy(z0, z);
            var x3 = x.Reshape(batch, m, d);
            var r3 = r.Reshape(batch, m, d);
            // α is the solution without ν: columns 1…m of rhs, seen as [batch, 1, m] for the mixing GEMM.
            var alpha = rhs.AsStrided([batch, 1, m], [m + 1, m, 1], offset: 1);
            var mixed3 = mixed.Reshape(batch, 1, d);
            var xSlots = new Tensor<T>[m];
            var rSlots = new Tensor<T>[m];
            for (int i = 0; i < m; i++) { xSlots[i] = x.SliceColumns(i * d, d); rSlots[i] = r.SliceColumns(i * d, d); }

            for (int k = 0; k < options.MaxIterations; k++)
            {
                map.Apply(z, fz);
                tracker.Observe(k, z, fz);
                if (tracker.AllStopped(k)) break;
                int slot = k % m, used = Math.Min(k + 1, m);
                device.Copy(z, xSlots[slot]);
                device.Axpby(T.One, fz, -T.One, z, rSlots[slot]);
                if (used == 1)
                {
                    tracker.Freeze(fz, z);
                    continue;
                }
                device.Gemm(MatrixOp.None, MatrixOp.Transpose, T.One, r3, r3, T.Zero, gram);
                device.AndersonSystem(gram, used, ridge, system, rhs);
                device.BatchedSolve(system, rhs, rhs, status);
                device.Gemm(MatrixOp.None, MatrixOp.None, T.One, alpha, x3, T.Zero, mixed3);
                device.Gemm(MatrixOp.None, MatrixOp.None, beta, alpha, r3, T.One, mixed3);
                // Fallback: samples whose small solve failed (status ≠ 0) take the plain step T(z).
                device.SelectRows(status, fz, mixed, mixed);
                tracker.Freeze(mixed, z);
            }
            return tracker.Finish(Name(Kind), device.Allocate<T>(batch, d), memory: m);
        }
        finally
        {
            pool.Return(z); pool.Return(fz); pool.Return(mixed); pool.Return(x); pool.Return(r);
            pool.Return(gram); pool.Return(system); pool.Return(rhs); pool.Return(status);
        }
    }
}
