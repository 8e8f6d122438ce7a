namespace OptEq.Solvers;

/// <summary>
/// Batched conjugate gradient for the OptEq adjoint. With M symmetric and J = σ′ ⪰ 0 diagonal, S = J^½, the adjoint
/// u = J(M u + g) becomes the SPD system (I − S M S) y = S g with u = S y (docs/math.md §1.6); w = M u + g is returned so
/// that every adjoint solver returns the same quantity. Each sample has its own step lengths (per-row dot products);
/// M is shared, so each CG step is one GEMM (or one application of the map's operator). Residual statistics: abs = ||S g − A y||, rel = abs / ||S g||.
/// </summary>
internal sealed class ConjugateGradientAdjoint : AdjointSolver
{
    public override string Name => "cg";
    public override AdjointStructure Requires => AdjointStructure.Symmetric;

    protected override SolverResult<T> Run<T>(IAdjointMap<T> adjointMap, Tensor<T> gradient, SolverOptions options, Tensor<T>? w0)
    {
        var map = (ISymmetricAdjointMap<T>)adjointMap; // checked by AdjointSolver.Solve against Requires
        var device = map.Device;
        int batch = map.Batch, d = map.Dimension;
        var pool = device.Pool;
        var s = pool.Rent<T>(batch, d);        // S = √J
        var y = pool.Rent<T>(batch, d);
        var r = pool.Rent<T>(batch, d);
        var p = pool.Rent<T>(batch, d);
        var ap = pool.Rent<T>(batch, d);
        var tmp = pool.Rent<T>(batch, d);
        var rhsNorm = pool.Rent<T>(batch);
        var rr = pool.Rent<T>(batch); var rrNew = pool.Rent<T>(batch); var pAp = pool.Rent<T>(batch);
        var alpha = pool.Rent<T>(batch); var negAlpha = pool.Rent<T>(batch); var beta = pool.Rent<T>(batch); var ones = pool.Rent<T>(batch);
        device.Fill(y, T.Zero);
        using var tracker = ConvergenceTracker<T>.Rent(device, y, options);
        try
        {
            device.Map(new SqrtNonNegative<T>(), s, map.Jacobian);
            device.Fill(ones, T.One);
            // b = S g; start from y0 = S·w0-derived guess when given (u0 = J w0 ⇒ y0 = S w0), else 0.
            device.Map(new Multiply<T>(), r, s, gradient);                        // r = b
            device.RowReduce(RowReduction.SquaredNorm, r, null, rhsNorm);
            if (w0 is not null)
            {
                device.Map(new Multiply<T>(), y, s, w0);
                ApplyOperator(map, s, y, ap, tmp);
                device.Axpby(-T.One, ap, T.One, r, r);                           // r = b − A y0
            }
            else device.Fill(y, T.Zero);
            device.Copy(r, p);
            device.RowReduce(RowReduction.SquaredNorm, r, null, rr);
            int k = 0;
            for (; k < options.MaxIterations; k++)
            {
                tracker.ObserveResidual(k, y, rr, rhsNorm);
                if (tracker.AllStopped(k)) { k++; break; }
                ApplyOperator(map, s, p, ap, tmp);
                device.RowReduce(RowReduction.Dot, p, ap, pAp);
                device.Map(new SafeDivide<T>(), alpha, rr, pAp);
                device.Map(new Affine<T>(-T.One, T.Zero), negAlpha, alpha);
                // Converged samples are frozen: their y stays the best iterate.
                device.RowAxpby(ones, y, alpha, p, tmp);
                tracker.Freeze(tmp, y);
                device.RowAxpby(ones, r, negAlpha, ap, r);
                device.RowReduce(RowReduction.SquaredNorm, r, null, rrNew);
                device.Map(new SafeDivide<T>(), beta, rrNew, rr);
                device.RowAxpby(ones, r, beta, p, p);
                device.Copy(rrNew, rr);
            }
            // The tracker keeps the best y; turn it into w = M u + g with u = S y.
            var solution = device.Pool.Rent<T>(batch, d);
            var result = tracker.Finish("cg", solution);
            device.Map(new Multiply<T>(), tmp, s, solution);                      // u
            device.Copy(gradient, solution);
            map.ApplyMetric(tmp, solution, T.One);
            return result;
        }
        finally
        {
            foreach (var t in new[] { s, y, r, p, ap, tmp, rhsNorm, rr, rrNew, pAp, alpha, negAlpha, beta, ones }) pool.Return(t);
        }
    }

    /// <summary>result ← (I − S M S)·v.</summary>
    private static void ApplyOperator<T>(ISymmetricAdjointMap<T> map, Tensor<T> s, Tensor<T> v, Tensor<T> result, Tensor<T> tmp) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var device = map.Device;
        device.Map(new Multiply<T>(), tmp, s, v);
        map.ApplyMetric(tmp, result, T.Zero);
        device.Map(new Multiply<T>(), result, s, result);
        device.Axpby(T.One, v, -T.One, result, result);
    }
}
