using OptEq.Solvers.Forward;

namespace OptEq.Solvers;

/// <summary>
/// The one place where solvers are found by name, in three typed sections: forward solvers, adjoint solvers and the
/// backward modes of an implicit layer. Each entry is the solver itself, so options hold the solver, not a name to
/// look up on every solve. A user's solver becomes usable everywhere (options, model configurations, the command line)
/// once registered: <c>SolverRegistry.Register(new MySolver())</c>.
/// </summary>
public static class SolverRegistry
{
    static SolverRegistry()
    {
        foreach (var solver in ForwardSolvers.All) Forward.Register(solver.Name, solver);
        Adjoint.Register(AdjointSolvers.FixedPoint.Name, AdjointSolvers.FixedPoint, "picard");
        Adjoint.Register(AdjointSolvers.Anderson.Name, AdjointSolvers.Anderson);
        Adjoint.Register(AdjointSolvers.ConjugateGradient.Name, AdjointSolvers.ConjugateGradient, "conjugate-gradient");
        Backward.Register("implicit", BackwardMode.Implicit);
        Backward.Register("jacobian-free", BackwardMode.JacobianFree, "jfb");
        Backward.Register("phantom", BackwardMode.Phantom);
        Backward.Register("unrolled", BackwardMode.Unrolled);
    }

    public static Registry<IForwardSolver> Forward { get; } = new("forward solver", ReferenceEqualityComparer.Instance);
    public static Registry<IAdjointSolver> Adjoint { get; } = new("adjoint solver", ReferenceEqualityComparer.Instance);
    /// <summary>Backward modes; "implicit-&lt;adjoint solver&gt;" and "phantom:k"/"unrolled:k" are read by <see cref="BackwardMethod.Parse"/>.</summary>
    public static Registry<BackwardMode> Backward { get; } = new("backward mode");

    /// <summary>Registers a forward solver under its <see cref="IForwardSolver.Name"/>.</summary>
    public static void Register(IForwardSolver solver, params string[] aliases) => Forward.Register(solver.Name, solver, aliases);

    /// <summary>Registers an adjoint solver under its <see cref="IAdjointSolver.Name"/>; "implicit-&lt;name&gt;" then selects it.</summary>
    public static void Register(IAdjointSolver solver, params string[] aliases) => Adjoint.Register(solver.Name, solver, aliases);

    /// <summary>Solves with the solver that <paramref name="options"/> holds.</summary>
    public static SolverResult<T> Solve<T>(IFixedPointMap<T> map, Tensor<T> z0, SolverOptions options) where T : unmanaged, IFloatingPointIeee754<T>
        => options.Solver.Solve(map, z0, options);
}

/// <summary>The built-in forward solvers. Solvers are stateless (their state lives in the device pool), so one instance each serves every call.</summary>
public static class ForwardSolvers
{
    public static IForwardSolver Picard { get; } = new PicardSolver();
    public static IForwardSolver Anderson { get; } = new AndersonSolver();
    public static IForwardSolver Broyden { get; } = new BroydenSolver();
    public static IForwardSolver Fista { get; } = new FistaSolver();
    public static IForwardSolver ForwardBackward { get; } = new ForwardBackwardSolver();
    public static IForwardSolver PeacemanRachford { get; } = new PeacemanRachfordSolver();
    public static IForwardSolver Halpern { get; } = new HalpernSolver();
    public static IForwardSolver HybridSteepestDescent { get; } = new HybridSteepestDescentSolver();

    public static IReadOnlyList<IForwardSolver> All { get; } = [Picard, Anderson, Broyden, Fista, ForwardBackward, PeacemanRachford, Halpern, HybridSteepestDescent];
}
