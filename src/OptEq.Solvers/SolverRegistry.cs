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

    public static string NameOf(SolverKind kind)
    {
        foreach (var (name, k) in Names) if (k == kind) return name; // a loop, not LINQ: every solve asks
        throw new ArgumentOutOfRangeException(nameof(kind), kind, $"no solver for {kind}");
    }

    public static SolverKind Parse(string name)
    {
        var key = name.Trim().ToLowerInvariant();
        foreach (var (n, k) in Names) if (n == key) return k;
        throw new ArgumentException($"unknown solver '{name}'; valid: {string.Join(", ", ValidNames)}");
    }

    // Solvers are stateless (their state lives in the device pool), so one instance each serves every call.
    private static readonly IForwardSolver[] Instances =
    [
        new PicardSolver(), new AndersonSolver(), new BroydenSolver(), new FistaSolver(), new ForwardBackwardSolver(),
        new PeacemanRachfordSolver(), new HalpernSolver(), new HybridSteepestDescentSolver(),
    ];

    public static IForwardSolver Create(SolverKind kind)
        => (uint)kind < (uint)Instances.Length && Instances[(int)kind].Kind == kind
            ? Instances[(int)kind]
            : throw new ArgumentOutOfRangeException(nameof(kind), kind, $"no solver for {kind}");

    public static IForwardSolver Create(string name) => Create(Parse(name));

    /// <summary>Solves with the solver that <paramref name="options"/> names.</summary>
    public static SolverResult<T> Solve<T>(IFixedPointMap<T> map, Tensor<T> z0, SolverOptions options) where T : unmanaged, IFloatingPointIeee754<T>
        => Create(options.Solver).Solve(map, z0, options);
}
