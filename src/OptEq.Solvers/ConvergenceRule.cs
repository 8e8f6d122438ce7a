namespace OptEq.Solvers;

/// <summary>
/// The per-sample stopping rule (docs/math.md §4.7), run on the device by the per-sample kernel after iteration k with the inputs
/// x = ||T(z) − z||² and y = ||T(z)||². For a sample still running: counts the iteration; marks it non-finite when the
/// residual is not finite; records a new lowest residual (Improved = 1); marks it converged when abs ≤ AbsTolerance or
/// rel ≤ RelTolerance (a negative tolerance disables that test), diverged when abs > DivergenceFactor · best. Stopped
/// samples are left as they are. Returns (abs, rel) for the traces. The state rows are <see cref="SampleState"/>'s.
/// Public and free of int → T conversions because ILGPU compiles it.
/// </summary>
public struct ConvergenceRule<T> : ISampleRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Map evaluations so far: iteration + 1, as T.</summary>
    public T Evaluations;
    public T AbsTolerance, RelTolerance, DivergenceFactor;

    public readonly (T, T) Apply(T absSquared, T normSquared, ref SampleColumn<T> s)
    {
        T abs = T.Sqrt(absSquared);
        // A tiny floor keeps rel finite when T(z) = 0 exactly (then rel is abs / floor, large unless abs is 0 too).
        T rel = abs / (T.Sqrt(normSquared) + T.Epsilon);
        s.S4 = T.Zero; // Improved
        if (s.S0 != T.Zero) return (abs, rel); // stopped samples are frozen
        s.S6 = abs; // LastAbs
        s.S7 = rel; // LastRel
        s.S3 = Evaluations; // Iterations
        if (!T.IsFinite(abs))
        {
            s.S0 = Code(SampleStatus.NonFinite);
            s.S5 = T.Zero; // Active
            return (abs, rel);
        }
        if (abs < s.S1) // BestAbs
        {
            s.S1 = abs;
            s.S2 = rel; // BestRel
            s.S4 = T.One;
        }
        if ((AbsTolerance >= T.Zero && abs <= AbsTolerance) || (RelTolerance >= T.Zero && rel <= RelTolerance))
        {
            s.S0 = Code(SampleStatus.Converged);
            s.S5 = T.Zero;
        }
        else if (abs > DivergenceFactor * s.S1)
        {
            s.S0 = Code(SampleStatus.Diverged);
            s.S5 = T.Zero;
        }
        return (abs, rel);
    }

    /// <summary>A status code as T (small integers built from ones: ILGPU cannot compile T.CreateTruncating).</summary>
    public static T Code(SampleStatus status)
    {
        T code = T.Zero;
        for (int i = 0; i < (int)status; i++) code += T.One;
        return code;
    }
}

/// <summary>
/// The state a solve starts from: running, best residual +∞, zero iterations, active, last residuals +∞. A rule, so
/// the reset is one kernel with no views (a solve's reset allocates nothing). +∞ arrives as a field (set by the host).
/// </summary>
public struct StartRule<T> : ISampleRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Infinity;

    public readonly (T, T) Apply(T x, T y, ref SampleColumn<T> s)
    {
        s.S0 = T.Zero;
        s.S1 = Infinity;
        s.S2 = Infinity;
        s.S3 = T.Zero;
        s.S4 = T.Zero;
        s.S5 = T.One;
        s.S6 = Infinity;
        s.S7 = Infinity;
        return (x, y);
    }
}
