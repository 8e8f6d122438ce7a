namespace OptEq.Solvers;

/// <summary>One signature for every forward solver: a batched map, an initial state, options in; solution and per-sample statistics out.</summary>
public interface IForwardSolver
{
    SolverKind Kind { get; }

    /// <summary>Solves z = T(z) from z0 ([batch, dimension], unchanged). The caller disposes the result.</summary>
    SolverResult<T> Solve<T>(IFixedPointMap<T> map, Tensor<T> z0, SolverOptions options) where T : unmanaged, IFloatingPointIeee754<T>;
}

/// <summary>Checks the inputs once, runs the solver's loop, then adds what the map can certify (objective, distance bound).</summary>
public abstract class ForwardSolver : IForwardSolver
{
    public abstract SolverKind Kind { get; }

    public SolverResult<T> Solve<T>(IFixedPointMap<T> map, Tensor<T> z0, SolverOptions options) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(z0);
        ArgumentNullException.ThrowIfNull(options);
        if (z0.Device != map.Device)
            throw new ArgumentException($"{SolverRegistry.NameOf(Kind)}: z0 lives on {z0.Device.Id}, the map on {map.Device.Id}");
        if (z0.Rank != 2 || z0.Shape[0] != map.Batch || z0.Shape[1] != map.Dimension)
            throw new ShapeException($"{SolverRegistry.NameOf(Kind)}: z0 must be [{map.Batch}, {map.Dimension}] for this map, got [{string.Join(", ", z0.Shape)}]");
        var result = Run(map, z0, options);
        Certify(map, result);
        return result;
    }

    protected abstract SolverResult<T> Run<T>(IFixedPointMap<T> map, Tensor<T> z0, SolverOptions options) where T : unmanaged, IFloatingPointIeee754<T>;

    internal static void Certify<T>(IFixedPointMap<T> map, SolverResult<T> result) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (map is IObjectiveMap<T> objectiveMap)
        {
            using var g = map.Device.Allocate<T>(map.Batch);
            objectiveMap.Objective(result.Solution, g);
            result.Objective = g.ToArray().Select(double.CreateChecked).ToArray();
        }
        if (map is IContractiveMap<T> { LipschitzBound: < 1 and var rho })
            result.DistanceBound = result.AbsResidual.Select(r => r / (1 - rho)).ToArray();
    }

    protected static string Name(SolverKind kind) => SolverRegistry.NameOf(kind);
}
