using System.Numerics;

namespace OptEq.Kernels;

/// <summary>Kernels that solvers are built from: per-row coefficients, row selection, residual bookkeeping, Anderson's small systems.</summary>
public abstract partial class Device
{
    /// <summary>result ← op(a, b, c, d) elementwise; missing inputs are replaced by a. All tensors share a's shape; result may alias an input.</summary>
    public void Map<T, TOp>(TOp op, Tensor<T> result, Tensor<T> a, Tensor<T>? b = null, Tensor<T>? c = null, Tensor<T>? d = null)
        where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IScalarMap<T>
    {
        b ??= a; c ??= a; d ??= a;
        CheckSameDevice("map", result, a, b, c, d);
        var (rows, cols) = SameMatrixShape("map", a, result);
        SameMatrixShape("map", a, b);
        SameMatrixShape("map", a, c);
        SameMatrixShape("map", a, d);
        MapCore(op, rows, cols, result.Storage, Layout(result), a.Storage, Layout(a), b.Storage, Layout(b), c.Storage, Layout(c), d.Storage, Layout(d));
    }

    /// <summary>(a, b, c) ← op(a, b, c, d) elementwise, in place; all four share a's shape and must not overlap one another.</summary>
    public void UpdateInPlace<T, TOp>(TOp op, Tensor<T> a, Tensor<T> b, Tensor<T> c, Tensor<T> d)
        where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IScalarUpdate<T>
    {
        CheckSameDevice("update-in-place", a, b, c, d);
        var (rows, cols) = SameMatrixShape("update-in-place", a, b);
        SameMatrixShape("update-in-place", a, c);
        SameMatrixShape("update-in-place", a, d);
        CheckNoOverlap("update-in-place", "b", b, a);
        CheckNoOverlap("update-in-place", "c", c, a);
        CheckNoOverlap("update-in-place", "c", c, b);
        UpdateInPlaceCore(op, rows, cols, a.Storage, Layout(a), b.Storage, Layout(b), c.Storage, Layout(c), d.Storage, Layout(d));
    }

    /// <summary>result[i, :] ← alpha[i]·x[i, :] + beta[i]·y[i, :]. Where beta[i] is zero, row i of y is not read.</summary>
    public void RowAxpby<T>(Tensor<T> alpha, Tensor<T> x, Tensor<T> beta, Tensor<T> y, Tensor<T> result) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckSameDevice("row-axpby", alpha, x, beta, y, result);
        SameMatrixShape("row-axpby", x, y);
        var (rows, cols) = SameMatrixShape("row-axpby", x, result);
        CheckRowVector("row-axpby", "alpha", alpha, rows);
        CheckRowVector("row-axpby", "beta", beta, rows);
        RowAxpbyCore(rows, cols, alpha.Storage, alpha.Offset, x.Storage, Layout(x), beta.Storage, beta.Offset, y.Storage, Layout(y), result.Storage, Layout(result));
    }

    /// <summary>result[i, :] ← condition[i] ≠ 0 ? a[i, :] : b[i, :]. result may alias a or b; only the chosen row is read.</summary>
    public void SelectRows<T, TCond>(Tensor<TCond> condition, Tensor<T> a, Tensor<T> b, Tensor<T> result)
        where T : unmanaged, IFloatingPointIeee754<T> where TCond : unmanaged, INumberBase<TCond>
    {
        CheckSameDevice("select-rows", a, b, result);
        if (condition.Device != this) throw new ArgumentException($"select-rows: condition lives on {condition.Device.Id}, not on {Id}");
        SameMatrixShape("select-rows", a, b);
        var (rows, cols) = SameMatrixShape("select-rows", a, result);
        CheckRowVector("select-rows", "condition", condition, rows);
        SelectRowsCore(rows, cols, condition.Storage, condition.Offset, a.Storage, Layout(a), b.Storage, Layout(b), result.Storage, Layout(result));
    }

    /// <summary>
    /// Per-sample convergence bookkeeping after iteration <paramref name="iteration"/> (0-based), given the squared
    /// residual ||T(z) − z||² and ||T(z)||² of every sample. For each sample still running: counts the iteration;
    /// marks it non-finite when the residual is not finite; records a new lowest residual (Improved = 1);
    /// marks it converged when abs ≤ absTolerance or rel ≤ relTolerance (a negative tolerance disables that test),
    /// diverged when abs > divergenceFactor · best. Stopped samples are left as they are. With traces
    /// ([maxIterations, batch]) it writes row <paramref name="iteration"/> of each (the latest residual, for every sample).
    /// state is [<see cref="SampleState.Rows"/>, batch]; initialise it with <see cref="ResetSampleState{T}"/>.
    /// </summary>
    public void TrackResiduals<T>(int iteration, Tensor<T> absSquared, Tensor<T> normSquared, T absTolerance, T relTolerance, T divergenceFactor,
        Tensor<T> state, Tensor<T>? traceAbs = null, Tensor<T>? traceRel = null) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckSameDevice("track-residuals", absSquared, normSquared, state, traceAbs ?? state, traceRel ?? state);
        int batch = absSquared.Length > int.MaxValue ? throw new ShapeException("track-residuals: batch too large") : (int)absSquared.Length;
        CheckRowVector("track-residuals", "absSquared", absSquared, batch);
        CheckRowVector("track-residuals", "normSquared", normSquared, batch);
        if (state.Rank != 2 || state.Shape[0] != SampleState.Rows || state.Shape[1] != batch || !state.IsContiguous)
            throw new ShapeException($"track-residuals: state must be a contiguous [{SampleState.Rows}, {batch}] tensor, got {ShapeUtil.Format(state.Shape)}");
        CheckTrace("traceAbs", traceAbs, iteration, batch); // not a loop over a new array: this runs every solver iteration
        CheckTrace("traceRel", traceRel, iteration, batch);
        TrackResidualsCore(iteration, batch, absSquared.Storage, absSquared.Offset, normSquared.Storage, normSquared.Offset, absTolerance, relTolerance, divergenceFactor,
            state.Storage, state.Offset, traceAbs?.Storage, traceAbs?.Offset ?? 0, traceRel?.Storage, traceRel?.Offset ?? 0);
    }

    /// <summary>
    /// Sets a contiguous [<see cref="SampleState.Rows"/>, batch] state to: running, best residual +∞, zero iterations,
    /// active. Rows are filled through their layouts, not through views, so a solve's reset allocates nothing.
    /// </summary>
    public void ResetSampleState<T>(Tensor<T> state) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckSameDevice("reset-sample-state", state);
        if (state.Rank != 2 || state.Shape[0] != SampleState.Rows || !state.IsContiguous)
            throw new ShapeException($"reset-sample-state: state must be a contiguous [{SampleState.Rows}, batch] tensor, got {ShapeUtil.Format(state.Shape)}");
        int batch = state.Shape[1];
        FillCore(SampleState.Rows, batch, state.Storage, Layout(state), T.Zero);
        FillStateRow(state, SampleState.BestAbs, T.PositiveInfinity);
        FillStateRow(state, SampleState.BestRel, T.PositiveInfinity);
        FillStateRow(state, SampleState.Active, T.One);
        FillStateRow(state, SampleState.LastAbs, T.PositiveInfinity);
        FillStateRow(state, SampleState.LastRel, T.PositiveInfinity);
    }

    private void FillStateRow<T>(Tensor<T> state, int row, T value) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int batch = state.Shape[1];
        FillCore(1, batch, state.Storage, new MatrixLayout(state.Offset + (long)row * batch, batch, 0), value);
    }

    /// <summary>
    /// Builds Anderson's bordered systems [0 1ᵀ; 1 H + λ·(tr H / n)·I]·[ν; α] = [1; 0] per sample, from the Gram matrices
    /// gram [batch, m, m] of the last residuals, of which the first <paramref name="used"/> slots hold data. Unused slots
    /// become identity rows with a zero right-hand side, so their weight is 0. The ridge is relative to the mean
    /// diagonal, so it does not swamp H when residuals are small (a choice; MATH.md §4 names an absolute λ).
    /// system: [batch, m+1, m+1], rhs: [batch, m+1] (contiguous; ready for <see cref="BatchedSolve{T}"/>).
    /// </summary>
    public void AndersonSystem<T>(Tensor<T> gram, int used, T ridge, Tensor<T> system, Tensor<T> rhs) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckSameDevice("anderson-system", gram, system, rhs);
        if (gram.Rank != 3 || gram.Shape[1] != gram.Shape[2] || !gram.IsContiguous)
            throw new ShapeException($"anderson-system: gram must be a contiguous [batch, m, m] tensor, got {ShapeUtil.Format(gram.Shape)}");
        int batch = gram.Shape[0], m = gram.Shape[1];
        if (used < 1 || used > m) throw new ArgumentOutOfRangeException(nameof(used), used, $"anderson-system: used slots must be in [1, {m}]");
        if (system.Rank != 3 || system.Shape[0] != batch || system.Shape[1] != m + 1 || system.Shape[2] != m + 1 || !system.IsContiguous)
            throw new ShapeException($"anderson-system: system must be a contiguous [{batch}, {m + 1}, {m + 1}] tensor, got {ShapeUtil.Format(system.Shape)}");
        if (rhs.Rank != 2 || rhs.Shape[0] != batch || rhs.Shape[1] != m + 1 || !rhs.IsContiguous)
            throw new ShapeException($"anderson-system: rhs must be a contiguous [{batch}, {m + 1}] tensor, got {ShapeUtil.Format(rhs.Shape)}");
        AndersonSystemCore(batch, m, used, ridge, gram.Storage, gram.Offset, system.Storage, system.Offset, rhs.Storage, rhs.Offset);
    }

    protected internal abstract void MapCore<T, TOp>(TOp op, int rows, int cols, Storage<T> result, MatrixLayout lr, Storage<T> a, MatrixLayout la,
        Storage<T> b, MatrixLayout lb, Storage<T> c, MatrixLayout lc, Storage<T> d, MatrixLayout ld)
        where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IScalarMap<T>;
    protected internal abstract void UpdateInPlaceCore<T, TOp>(TOp op, int rows, int cols, Storage<T> a, MatrixLayout la, Storage<T> b, MatrixLayout lb,
        Storage<T> c, MatrixLayout lc, Storage<T> d, MatrixLayout ld) where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IScalarUpdate<T>;
    protected abstract void RowAxpbyCore<T>(int rows, int cols, Storage<T> alpha, long alphaOffset, Storage<T> x, MatrixLayout lx,
        Storage<T> beta, long betaOffset, Storage<T> y, MatrixLayout ly, Storage<T> result, MatrixLayout lr) where T : unmanaged, IFloatingPointIeee754<T>;
    protected abstract void SelectRowsCore<T, TCond>(int rows, int cols, Storage<TCond> condition, long conditionOffset, Storage<T> a, MatrixLayout la,
        Storage<T> b, MatrixLayout lb, Storage<T> result, MatrixLayout lr) where T : unmanaged, IFloatingPointIeee754<T> where TCond : unmanaged, INumberBase<TCond>;
    protected abstract void TrackResidualsCore<T>(int iteration, int batch, Storage<T> absSquared, long absOffset, Storage<T> normSquared, long normOffset,
        T absTolerance, T relTolerance, T divergenceFactor, Storage<T> state, long stateOffset,
        Storage<T>? traceAbs, long traceAbsOffset, Storage<T>? traceRel, long traceRelOffset) where T : unmanaged, IFloatingPointIeee754<T>;
    protected abstract void AndersonSystemCore<T>(int batch, int m, int used, T ridge, Storage<T> gram, long gramOffset,
        Storage<T> system, long systemOffset, Storage<T> rhs, long rhsOffset) where T : unmanaged, IFloatingPointIeee754<T>;

    private static void CheckTrace<T>(string name, Tensor<T>? trace, int iteration, int batch) where T : unmanaged
    {
        if (trace is null) return;
        if (trace.Rank != 2 || trace.Shape[1] != batch || !trace.IsContiguous)
            throw new ShapeException($"track-residuals: {name} must be a contiguous [iterations, {batch}] tensor, got {ShapeUtil.Format(trace.Shape)}");
        if (iteration < 0 || iteration >= trace.Shape[0])
            throw new ShapeException($"track-residuals: iteration {iteration} is outside {name}'s {trace.Shape[0]} rows");
    }

    private static void CheckRowVector<T>(string op, string name, Tensor<T> t, int rows) where T : unmanaged
    {
        if (t.Length != rows || !t.IsContiguous)
            throw new ShapeException($"{op}: {name} must be contiguous with {rows} elements (one per row), got {ShapeUtil.Format(t.Shape)}");
    }
}
