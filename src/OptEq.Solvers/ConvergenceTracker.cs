namespace OptEq.Solvers;

/// <summary>
/// Per-sample stopping shared by every solver: residuals and state live on the device, the best iterate is kept by a
/// row select, and the host looks at the active flags only every CheckEvery iterations (one small copy into a
/// preallocated array). All buffers are rented before the loop; <see cref="Observe"/> and <see cref="Freeze"/> allocate nothing.
/// </summary>
internal sealed class ConvergenceTracker<T> : IDisposable where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Device _device;
    private readonly SolverOptions _options;
    private readonly Tensor<T> _state, _absSquared, _normSquared, _best, _active, _improved;
    private readonly Tensor<T>? _traceAbs, _traceRel;
    private readonly T[] _hostActive;
    private readonly T _absTolerance, _relTolerance, _divergence;
    private int _observed;

    public ConvergenceTracker(Device device, Tensor<T> z0, SolverOptions options)
    {
        _device = device;
        _options = options;
        int batch = z0.Shape[0], dimension = z0.Shape[1];
        Batch = batch;
        _state = device.Pool.Rent<T>(SampleState.Rows, batch);
        _absSquared = device.Pool.Rent<T>(batch);
        _normSquared = device.Pool.Rent<T>(batch);
        _best = device.Pool.Rent<T>(batch, dimension);
        if (options.RecordTrace)
        {
            _traceAbs = device.Pool.Rent<T>(options.MaxIterations, batch);
            _traceRel = device.Pool.Rent<T>(options.MaxIterations, batch);
        }
        _hostActive = new T[batch];
        T tol = T.CreateChecked(options.Tolerance);
        // A negative tolerance disables a test in the kernel.
        _absTolerance = options.Stop == StopCriterion.Absolute ? tol : -T.One;
        _relTolerance = options.Stop == StopCriterion.Relative ? tol : -T.One;
        _divergence = T.CreateChecked(options.DivergenceFactor);
        device.ResetSampleState(_state);
        // A sample that never improves (non-finite from the start) returns its initial state, not stale memory.
        device.Copy(z0, _best);
        // Views made once: creating them inside the loop would allocate per iteration.
        _active = _state[SampleState.Active];
        _improved = _state[SampleState.Improved];
    }

    public int Batch { get; }

    /// <summary>[batch]: 1 while a sample runs. Use as the condition of a row select.</summary>
    public Tensor<T> Active => _active;

    /// <summary>
    /// Records the residual ||T(z) − z|| of z for iteration k and, where it is the lowest so far, keeps T(z) as the
    /// sample's answer: T(z) is always in the domain of f (an Anderson mix may not be), and for a ρ-Lipschitz map its
    /// residual is at most ρ times the one recorded, so the reported residual and certificate stay valid bounds.
    /// </summary>
    public void Observe(int iteration, Tensor<T> z, Tensor<T> fz)
    {
        _device.RowReduce(RowReduction.SquaredDistance, fz, z, _absSquared);
        _device.RowReduce(RowReduction.SquaredNorm, fz, null, _normSquared);
        ObserveResidual(iteration, fz, _absSquared, _normSquared);
    }

    /// <summary>Records a residual computed by the solver itself (squared abs and squared reference norm per sample) and keeps <paramref name="answer"/> where it is the lowest.</summary>
    public void ObserveResidual(int iteration, Tensor<T> answer, Tensor<T> absSquared, Tensor<T> normSquared)
    {
        _device.TrackResiduals(iteration, absSquared, normSquared, _absTolerance, _relTolerance, _divergence, _state, _traceAbs, _traceRel);
        _device.SelectRows(_improved, answer, _best, _best);
        _observed = iteration + 1;
    }

    /// <summary>z ← candidate for the samples still running; stopped samples keep their state.</summary>
    public void Freeze(Tensor<T> candidate, Tensor<T> z) => _device.SelectRows(Active, candidate, z, z);

    /// <summary>True when every sample has stopped; reads the device only every CheckEvery iterations (and on the last).</summary>
    public bool AllStopped(int iteration)
    {
        bool last = iteration + 1 >= _options.MaxIterations;
        if (!last && (iteration + 1) % _options.CheckEvery != 0) return false;
        Active.CopyTo(_hostActive);
        foreach (var a in _hostActive) if (a != T.Zero) return false;
        return true;
    }

    /// <summary>Downloads the statistics and moves the best iterates into <paramref name="solution"/>.</summary>
    public SolverResult<T> Finish(string solver, Tensor<T> solution, int memory = 0)
    {
        _device.Copy(_best, solution);
        var state = _state.ToArray();
        int b = Batch;
        var status = new SampleStatus[b];
        var abs = new double[b]; var rel = new double[b]; var iterations = new int[b];
        for (int i = 0; i < b; i++)
        {
            var s = (SampleStatus)int.CreateTruncating(state[SampleState.Status * b + i]);
            status[i] = s == SampleStatus.Running ? SampleStatus.MaxIterations : s;
            abs[i] = double.CreateChecked(state[SampleState.BestAbs * b + i]);
            rel[i] = double.CreateChecked(state[SampleState.BestRel * b + i]);
            iterations[i] = int.CreateTruncating(state[SampleState.Iterations * b + i]);
            if (status[i] == SampleStatus.NonFinite && double.IsPositiveInfinity(abs[i])) abs[i] = rel[i] = double.NaN;
        }
        return new SolverResult<T>
        {
            Solver = solver,
            Solution = solution,
            Iterations = _observed,
            Status = status,
            AbsResidual = abs,
            RelResidual = rel,
            SampleIterations = iterations,
            TraceAbs = _traceAbs is null ? null : Trace(_traceAbs),
            TraceRel = _traceRel is null ? null : Trace(_traceRel),
            Memory = memory,
        };
    }

    private double[,] Trace(Tensor<T> trace)
    {
        var rows = trace.Slice(0, _observed).ToArray();
        var result = new double[_observed, Batch];
        for (int k = 0; k < _observed; k++)
            for (int i = 0; i < Batch; i++) result[k, i] = double.CreateChecked(rows[k * Batch + i]);
        return result;
    }

    public void Dispose()
    {
        var pool = _device.Pool;
        pool.Return(_state); pool.Return(_absSquared); pool.Return(_normSquared); pool.Return(_best);
        if (_traceAbs is not null) pool.Return(_traceAbs);
        if (_traceRel is not null) pool.Return(_traceRel);
    }
}
