using System.Numerics;

namespace OptEq.Kernels;

/// <summary>
/// The per-sample logic of the solver kernels, written once as plain scalar code: the native backend loops over
/// samples calling it, the ILGPU kernels call it per thread. Public because ILGPU compiles only public code.
/// No int → T conversions here (T.CreateTruncating inspects System.Type, which ILGPU cannot compile): counts arrive as T.
/// </summary>
public static class SolverBookkeeping
{
    /// <summary>A status code as T (small integers built from ones, for the same reason).</summary>
    public static T Code<T>(SampleStatus status) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T code = T.Zero;
        for (int i = 0; i < (int)status; i++) code += T.One;
        return code;
    }

    /// <summary>Updates one sample's state; <paramref name="evaluations"/> is iteration + 1 as T. Returns (abs, rel) for the traces.</summary>
    public static (T Abs, T Rel) Track<T>(T evaluations, T absSquared, T normSquared, T absTolerance, T relTolerance, T divergenceFactor,
        ref T status, ref T bestAbs, ref T bestRel, ref T iterations, ref T improved, ref T active, ref T lastAbs, ref T lastRel)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T abs = T.Sqrt(absSquared);
        // A tiny floor keeps rel finite when T(z) = 0 exactly (then rel is abs / floor, large unless abs is 0 too).
        T rel = abs / (T.Sqrt(normSquared) + T.Epsilon);
        improved = T.Zero;
        if (status != T.Zero) return (abs, rel); // stopped samples are frozen
        lastAbs = abs;
        lastRel = rel;
        iterations = evaluations;
        if (!T.IsFinite(abs))
        {
            status = Code<T>(SampleStatus.NonFinite);
            active = T.Zero;
            return (abs, rel);
        }
        if (abs < bestAbs)
        {
            bestAbs = abs;
            bestRel = rel;
            improved = T.One;
        }
        if ((absTolerance >= T.Zero && abs <= absTolerance) || (relTolerance >= T.Zero && rel <= relTolerance))
        {
            status = Code<T>(SampleStatus.Converged);
            active = T.Zero;
        }
        else if (abs > divergenceFactor * bestAbs)
        {
            status = Code<T>(SampleStatus.Diverged);
            active = T.Zero;
        }
        return (abs, rel);
    }

    /// <summary>Element (r, c) of Anderson's bordered system and rhs[r] for m slots of which <paramref name="used"/> hold data.</summary>
    public static T AndersonEntry<T>(int r, int c, int m, int used, T ridge, T meanDiagonal, T gramRC) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (r == 0 && c == 0) return T.Zero;
        if (r == 0) return c <= used ? T.One : T.Zero;
        if (c == 0) return r <= used ? T.One : T.Zero;
        if (r > used || c > used) return r == c ? T.One : T.Zero; // an unused slot: identity row, zero weight
        return r == c ? gramRC + ridge * meanDiagonal : gramRC;
    }
}
