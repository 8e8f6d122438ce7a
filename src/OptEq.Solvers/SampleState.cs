namespace OptEq.Solvers;

/// <summary>
/// Row indices of the per-sample solver state tensor [<see cref="Rows"/>, batch] that <see cref="ConvergenceRule{T}"/>
/// maintains on the device through the per-sample kernel (row r is <see cref="SampleColumn{T}"/>'s field S{r}). One
/// tensor, so a solver downloads its statistics in one copy at the end and checks convergence with one small copy
/// every k iterations.
/// </summary>
public static class SampleState
{
    public const int Status = 0;        // a SampleStatus code, stored as a number
    public const int BestAbs = 1;       // lowest ||T(z) − z|| seen
    public const int BestRel = 2;       // its relative residual
    public const int Iterations = 3;    // map evaluations until the sample stopped (or so far)
    public const int Improved = 4;      // 1 when this iteration lowered BestAbs (the caller then keeps z as the best iterate)
    public const int Active = 5;        // 1 while the sample still runs (status == Running)
    public const int LastAbs = 6;       // the latest abs residual
    public const int LastRel = 7;       // the latest rel residual
    public const int Rows = SampleColumn.Rows;
}

/// <summary>Per-sample result code of a solve.</summary>
public enum SampleStatus
{
    Running = 0,
    Converged = 1,
    MaxIterations = 2,
    Diverged = 3,
    NonFinite = 4,
}
