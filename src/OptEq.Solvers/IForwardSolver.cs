using System.Buffers;
namespace OptEq.Solvers;

/// <summary>One signature for every forward solver: a batched map, an initial state, options in; solution and per-sample statistics out.</summary>
public interface IForwardSolver
{
    /// <summary>The name it is registered and reported under (lower case, e.g. "anderson").</summary>
    string Name { get; }

    /// <summary>Solves z = T(z) from z0 ([batch, dimension], unchanged). The caller disposes the result.</summary>
    SolverResult<T> Solve<T>(IFixedPointMap<T> map, Tensor<T> z0, SolverOptions options) where T : unmanaged, IFloatingPointIeee754<T>;
}

/// <summary>Checks the inputs once, runs the solver's loop, then adds what the map can certify (objective, distance bound).</summary>
public abstract class ForwardSolver : IForwardSolver
{
    public abstract string Name { get; }

    public SolverResult<T> Solve<T>(IFixedPointMap<T> map, Tensor<T> z0, SolverOptions options) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(z0);
        ArgumentNullException.ThrowIfNull(options);
        if (z0.Device != map.Device)
            throw new ArgumentException($"{Name}: z0 lives on {z0.Device.Id}, the map on {map.Device.Id}");
        if (z0.Rank != 2 || z0.Shape[0] != map.Batch || z0.Shape[1] != map.Dimension)
            throw new ShapeException($"{Name}: z0 must be [{map.Batch}, {map.Dimension}] for this map, got [{string.Join(", ", z0.Shape)}]");
        var result = Run(map, z0, options);
        Certify(map, result);
        return result;
    }

    protected abstract SolverResult<T> Run<T>(IFixedPointMap<T> map, Tensor<T> z0, SolverOptions options) where T : unmanaged, IFloatingPointIeee754<T>;

    internal static void Certify<T>(IFixedPointMap<T> map, SolverResult<T> result) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (map is IObjectiveMap<T> objectiveMap)
        {
            var pool = map.Device.Pool;
            var g = pool.Rent<T>(map.Batch);
            var host = ArrayPool<T>.Shared.Rent(map.Batch); // pooled: a repeated solve allocates nothing
            try
            {
                objectiveMap.Objective(result.Solution, g);
                g.CopyTo(host.AsSpan(0, map.Batch));
                var objective = result.ObjectiveBuffer;
                for (int i = 0; i < objective.Length; i++) objective[i] = double.CreateChecked(host[i]);
                result.Objective = objective;
            }
            finally
            {
                ArrayPool<T>.Shared.Return(host);
                pool.Return(g);
            }
        }
        if (map is IContractiveMap<T> { LipschitzBound: < 1 and var rho })
        {
            var bound = result.DistanceBoundBuffer;
            for (int i = 0; i < bound.Length; i++) bound[i] = result.AbsResidual[i] / (1 - rho);
            result.DistanceBound = bound;
        }
    }

    public override string ToString() => Name;
}
