namespace OptEq.Solvers;

/// <summary>
/// What a solve returns: the solution (T(z) of each sample's lowest-residual iterate z) and per-sample statistics.
/// Arrays are indexed by sample; traces by [iteration, sample] and hold the latest residual of each sample at each
/// iteration (a stopped sample repeats its last value). The solution is rented from the device's pool: Dispose gives it
/// back (so the next solve of the same size allocates nothing); a result that is never disposed just leaves it to the GC.
/// </summary>
public sealed class SolverResult<T> : IDisposable where T : unmanaged
{
    public required string Solver { get; init; }
    /// <summary>[batch, dimension]: T(z) of each sample's lowest-residual iterate z (for CG: the adjoint built from the best iterate).</summary>
    public required Tensor<T> Solution { get; init; }
    /// <summary>Loop iterations run (map evaluations of the slowest sample).</summary>
    public required int Iterations { get; init; }
    public required SampleStatus[] Status { get; init; }
    /// <summary>Lowest ||T(z) − z|| (for CG: ||b − A·y||) per sample; for a ρ-Lipschitz map the residual of <see cref="Solution"/> is at most ρ times this.</summary>
    public required double[] AbsResidual { get; init; }
    /// <summary>The relative residual of the same iterate.</summary>
    public required double[] RelResidual { get; init; }
    /// <summary>Map evaluations each sample took until it stopped.</summary>
    public required int[] SampleIterations { get; init; }
    /// <summary>[iterations, batch] abs residuals, or null when traces were off.</summary>
    public double[,]? TraceAbs { get; init; }
    public double[,]? TraceRel { get; init; }
    /// <summary>G at the solution, per sample, for maps with an objective (OptEq); else null.</summary>
    public double[]? Objective { get; set; }
    /// <summary>Bound on ||z − z*|| per sample from the certificate residual / (1 − ρ), for contractive maps; else null.</summary>
    public double[]? DistanceBound { get; set; }
    /// <summary>Memory the solver kept per sample (Anderson's m, Broyden's rank), for reports.</summary>
    public int Memory { get; init; }

    public int Batch => Status.Length;
    public bool AllConverged => Status.All(s => s == SampleStatus.Converged);
    public double ConvergedFraction => Status.Length == 0 ? 1 : Status.Count(s => s == SampleStatus.Converged) / (double)Status.Length;
    public double MeanIterations => SampleIterations.Length == 0 ? 0 : SampleIterations.Average();

    private bool _disposed;

    public void Dispose()
    {
        if (_disposed) return; // returning the storage twice would hand it to two renters
        _disposed = true;
        Solution.Device.Pool.Return(Solution);
    }
}
