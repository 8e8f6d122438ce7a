using OptEq.Solvers;

namespace OptEq.Tests.Solvers;

/// <summary>The built-in solvers' names, for parameterised tests (solvers that tests register are left out).</summary>
public static class SolverNames
{
    public static IEnumerable<string> Forward => ForwardSolvers.All.Select(s => s.Name);
    public static IEnumerable<string> Adjoint => [AdjointSolvers.FixedPoint.Name, AdjointSolvers.Anderson.Name, AdjointSolvers.ConjugateGradient.Name];
}
