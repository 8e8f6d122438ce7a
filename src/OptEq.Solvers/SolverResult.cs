namespace OptEq.Solvers;

/// <summary>
/// What a solve returns: the solution (T(z) of each sample's lowest-residual iterate z) and per-sample statistics.
/// Arrays are indexed by sample; traces by [iteration, sample] and hold the latest residual of each sample at each
/// iteration (a stopped sample repeats its last value). The solution and the result object are rented from the device's
/// pool: Dispose gives them back (so the next solve of the same size allocates nothing); a result that is never disposed
/// just leaves them to the GC.
/// </summary>
public sealed class SolverResult<T> : IDisposable where T : unmanaged
{
    private double[]? _objective, _distanceBound; // kept across reuses; exposed only when the solve filled them

    private SolverResult(int batch)
    {
        Status = new SampleStatus[batch];
        AbsResidual = new double[batch];
        RelResidual = new double[batch];
        SampleIterations = new int[batch];
    }

    /// <summary>A result for <paramref name="batch"/> samples: one disposed earlier (arrays and all) when the pool has one, else new.</summary>
    internal static SolverResult<T> Rent(TensorPool pool, int batch)
    {
        var result = pool.RentObject<SolverResult<T>>();
        if (result is null || result.Batch != batch) result = new SolverResult<T>(batch);
        result.TraceAbs = result.TraceRel = null;
        result.Objective = result.DistanceBound = null;
        result.Memory = 0;
        result._disposed = false;
        return result;
    }

    public string Solver { get; internal set; } = "";
    /// <summary>[batch, dimension]: T(z) of each sample's lowest-residual iterate z (for CG: the adjoint built from the best iterate).</summary>
    public Tensor<T> Solution { get; internal set; } = null!;
    /// <summary>Loop iterations run (map evaluations of the slowest sample).</summary>
    public int Iterations { get; internal set; }
    public SampleStatus[] Status { get; }
    /// <summary>Lowest ||T(z) − z|| (for CG: ||b − A·y||) per sample; for a ρ-Lipschitz map the residual of <see cref="Solution"/> is at most ρ times this.</summary>
    public double[] AbsResidual { get; }
    /// <summary>The relative residual of the same iterate.</summary>
    public double[] RelResidual { get; }
    /// <summary>Map evaluations each sample took until it stopped.</summary>
    public int[] SampleIterations { get; }
    /// <summary>[iterations, batch] abs residuals, or null when traces were off.</summary>
    public double[,]? TraceAbs { get; internal set; }
    public double[,]? TraceRel { get; internal set; }
    /// <summary>G at the solution, per sample, for maps with an objective (OptEq); else null.</summary>
    public double[]? Objective { get; internal set; }
    /// <summary>Bound on ||z − z*|| per sample from the certificate residual / (1 − ρ), for contractive maps; else null.</summary>
    public double[]? DistanceBound { get; internal set; }
    /// <summary>Memory the solver kept per sample (Anderson's m, Broyden's rank), for reports.</summary>
    public int Memory { get; internal set; }

    /// <summary>The array <see cref="Objective"/> is filled into (this result's own, reused).</summary>
    internal double[] ObjectiveBuffer => _objective ??= new double[Batch];
    /// <summary>The array <see cref="DistanceBound"/> is filled into (this result's own, reused).</summary>
    internal double[] DistanceBoundBuffer => _distanceBound ??= new double[Batch];

    public int Batch => Status.Length;
    public bool AllConverged => Status.All(s => s == SampleStatus.Converged);
    public double ConvergedFraction => Status.Length == 0 ? 1 : Status.Count(s => s == SampleStatus.Converged) / (double)Status.Length;
    public double MeanIterations => SampleIterations.Length == 0 ? 0 : SampleIterations.Average();

    private bool _disposed;

    /// <summary>
    /// Gives the solution tensor and this result (with its arrays) back to the device pool: the next solve of this batch
    /// reuses them, so read what you need before disposing.
    /// </summary>
    public void Dispose()
    {
        if (_disposed) return; // returning the storage twice would hand it to two renters
        _disposed = true;
        var pool = Solution.Device.Pool;
        pool.Return(Solution);
        pool.ReturnObject(this);
    }
}
