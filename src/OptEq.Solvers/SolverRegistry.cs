using OptEq.Solvers.Forward;

namespace OptEq.Solvers;

/// <summary>Solver names ↔ kinds ↔ instances. An unknown name is an error that lists the valid ones.</summary>
public static class SolverRegistry
{
    private static readonly (string Name, SolverKind Kind)[] Names =
    [
        ("picard", SolverKind.Picard),
        ("anderson", SolverKind.Anderson),
        ("broyden", SolverKind.Broyden),
        ("fista", SolverKind.Fista),
        ("forward-backward", SolverKind.ForwardBackward),
        ("peaceman-rachford", SolverKind.PeacemanRachford),
        ("halpern", SolverKind.Halpern),
        ("hybrid-steepest-descent", SolverKind.HybridSteepestDescent),
    ];

    public static IReadOnlyList<string> ValidNames { get; } = Names.Select(n => n.Name).ToArray();

    public static string NameOf(SolverKind kind) => Names.First(n => n.Kind == kind).Name;

    public static SolverKind Parse(string name)
    {
        var key = name.Trim().ToLowerInvariant();
        foreach (var (n, k) in Names) if (n == key) return k;
        throw new ArgumentException($"unknown solver '{name}'; valid: {string.Join(", ", ValidNames)}");
    }

    public static IForwardSolver Create(SolverKind kind) => kind switch
    {
        SolverKind.Picard => new PicardSolver(),
        SolverKind.Anderson => new AndersonSolver(),
        SolverKind.Broyden => new BroydenSolver(),
        SolverKind.Fista => new FistaSolver(),
        SolverKind.ForwardBackward => new ForwardBackwardSolver(),
        SolverKind.PeacemanRachford => new PeacemanRachfordSolver(),
        SolverKind.Halpern => new HalpernSolver(),
        SolverKind.HybridSteepestDescent => new HybridSteepestDescentSolver(),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, $"no solver for {kind}"),
    };

    public static IForwardSolver Create(string name) => Create(Parse(name));

    /// <summary>Solves with the solver that <paramref name="options"/> names.</summary>
    public static SolverResult<T> Solve<T>(IFixedPointMap<T> map, Tensor<T> z0, SolverOptions options) where T : unmanaged, IFloatingPointIeee754<T>
        => Create(options.Solver).Solve(map, z0, options);
}
