namespace OptEq.Solvers;

/// <summary>
/// Per-sample stopping shared by every solver: residuals and state live on the device, the best iterate is kept by a
/// row select, and the host looks at the active flags only every CheckEvery iterations (one small copy into a
/// preallocated array). All buffers are rented before the loop; <see cref="Observe"/> and <see cref="Freeze"/> allocate nothing.
/// Public so that a solver written outside the library (deriving <see cref="ForwardSolver"/>, e.g. an Anderson variant)
/// stops, keeps its best iterate and reports exactly as the built-in ones: Rent before the loop, Observe/AllStopped/Freeze
/// per iteration, Finish after it, Dispose at the end (see AndersonSolver and StepSolver).
/// </summary>
public sealed class ConvergenceTracker<T> : IDisposable where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Device _device;
    private readonly Tensor<T> _state, _absSquared, _normSquared, _best, _active, _improved;
    private readonly Tensor<T>? _traceAbs, _traceRel;
    private readonly T[] _hostActive, _hostState;
    private SolverOptions _options = null!;
    private T _absTolerance, _relTolerance, _divergence;
    private int _observed;

    private ConvergenceTracker(Device device, int batch, int dimension, int traceRows)
    {
        _device = device;
        Batch = batch;
        Dimension = dimension;
        TraceRows = traceRows;
        _state = device.Pool.Rent<T>(SampleState.Rows, batch);
        _absSquared = device.Pool.Rent<T>(batch);
        _normSquared = device.Pool.Rent<T>(batch);
        _best = device.Pool.Rent<T>(batch, dimension);
        if (traceRows > 0)
        {
            _traceAbs = device.Pool.Rent<T>(traceRows, batch);
            _traceRel = device.Pool.Rent<T>(traceRows, batch);
        }
        _hostActive = new T[batch];
        _hostState = new T[SampleState.Rows * batch];
        // Views made once: creating them inside the loop would allocate per iteration.
        _active = _state[SampleState.Active];
        _improved = _state[SampleState.Improved];
    }

    /// <summary>
    /// A tracker for a solve from z0 under these options: one kept in the device pool by an earlier solve of the same
    /// sizes (so a repeated solve allocates nothing), or a new one. Dispose gives it back.
    /// </summary>
    public static ConvergenceTracker<T> Rent(Device device, Tensor<T> z0, SolverOptions options)
    {
        int batch = z0.Shape[0], dimension = z0.Shape[1], traceRows = options.RecordTrace ? options.MaxIterations : 0;
        var tracker = device.Pool.RentObject<ConvergenceTracker<T>>();
        if (tracker is not null && (tracker.Batch != batch || tracker.Dimension != dimension || tracker.TraceRows != traceRows))
        {
            tracker.ReleaseBuffers();
            tracker = null;
        }
        tracker ??= new ConvergenceTracker<T>(device, batch, dimension, traceRows);
        tracker.Start(z0, options);
        return tracker;
    }

    private void Start(Tensor<T> z0, SolverOptions options)
    {
        _options = options;
        T tol = T.CreateChecked(options.Tolerance);
        // A negative tolerance disables a test of the rule.
        _absTolerance = options.Stop == StopCriterion.Absolute ? tol : -T.One;
        _relTolerance = options.Stop == StopCriterion.Relative ? tol : -T.One;
        _divergence = T.CreateChecked(options.DivergenceFactor);
        _observed = 0;
        _device.UpdateSamples(new StartRule<T> { Infinity = T.PositiveInfinity }, _absSquared, _normSquared, _state); // inputs unused
        // A sample that never improves (non-finite from the start) returns its initial state, not stale memory.
        _device.Copy(z0, _best);
    }

    /// <summary>Samples and state size this tracker was rented for.</summary>
    public int Batch { get; }
    public int Dimension { get; }
    private int TraceRows { get; }

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
        var rule = new ConvergenceRule<T>
        {
            Evaluations = T.CreateTruncating(iteration + 1), AbsTolerance = _absTolerance, RelTolerance = _relTolerance, DivergenceFactor = _divergence,
        };
        _device.UpdateSamples(rule, absSquared, normSquared, _state, iteration, _traceAbs, _traceRel);
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

    /// <summary>
    /// Downloads the statistics and moves the best iterates into <paramref name="solution"/> (a tensor rented from the
    /// pool). The result object and its per-sample arrays come from the pool too when a result of this batch was disposed.
    /// </summary>
    public SolverResult<T> Finish(string solver, Tensor<T> solution, int memory = 0)
    {
        _device.Copy(_best, solution);
        _state.CopyTo(_hostState);
        int b = Batch;
        var result = SolverResult<T>.Rent(_device.Pool, b);
        for (int i = 0; i < b; i++)
        {
            var s = (SampleStatus)int.CreateTruncating(_hostState[SampleState.Status * b + i]);
            result.Status[i] = s == SampleStatus.Running ? SampleStatus.MaxIterations : s;
            result.AbsResidual[i] = double.CreateChecked(_hostState[SampleState.BestAbs * b + i]);
            result.RelResidual[i] = double.CreateChecked(_hostState[SampleState.BestRel * b + i]);
            result.SampleIterations[i] = int.CreateTruncating(_hostState[SampleState.Iterations * b + i]);
            if (result.Status[i] == SampleStatus.NonFinite && double.IsPositiveInfinity(result.AbsResidual[i]))
                result.AbsResidual[i] = result.RelResidual[i] = double.NaN;
        }
        result.Solver = solver;
        result.Solution = solution;
        result.Iterations = _observed;
        result.TraceAbs = _traceAbs is null ? null : Trace(_traceAbs);
        result.TraceRel = _traceRel is null ? null : Trace(_traceRel);
        result.Memory = memory;
        return result;
    }

    private double[,] Trace(Tensor<T> trace)
    {
        var rows = trace.Slice(0, _observed).ToArray();
        var result = new double[_observed, Batch];
        for (int k = 0; k < _observed; k++)
            for (int i = 0; i < Batch; i++) result[k, i] = double.CreateChecked(rows[k * Batch + i]);
        return result;
    }

    /// <summary>Gives the tracker, buffers included, back to the pool for the next solve.</summary>
    public void Dispose() => _device.Pool.ReturnObject(this);

    /// <summary>Returns the buffers to the tensor pool (a tracker of other sizes is wanted instead of this one).</summary>
    private void ReleaseBuffers()
    {
        var pool = _device.Pool;
        pool.Return(_state); pool.Return(_absSquared); pool.Return(_normSquared); pool.Return(_best);
        if (_traceAbs is not null) pool.Return(_traceAbs);
        if (_traceRel is not null) pool.Return(_traceRel);
    }
}
