using System.Text.Json.Serialization;

namespace OptEq.Solvers;

/// <summary>What an adjoint solver needs of the adjoint map beyond vector–Jacobian products.</summary>
[Flags]
public enum AdjointStructure
{
    /// <summary>Any map with vector–Jacobian products.</summary>
    None = 0,
    /// <summary>A symmetric adjoint (an <see cref="ISymmetricAdjointMap{T}"/>, as the OptEq layers give).</summary>
    Symmetric = 1,
}

/// <summary>
/// Solves the implicit backward pass w = (∂T/∂z*)ᵀ·w + g. Returns w with per-sample statistics (the same
/// <see cref="SolverResult{T}"/> as forward solves). The caller must have called map.PrepareAdjoint(z*). A solver
/// declares the structure it needs (<see cref="Requires"/>), so a layer chooses a solver its map can serve.
/// </summary>
[JsonConverter(typeof(AdjointSolverJsonConverter))]
public interface IAdjointSolver
{
    /// <summary>The name it is registered and reported under (e.g. "cg"); "implicit-&lt;name&gt;" selects it as a backward mode.</summary>
    string Name { get; }

    AdjointStructure Requires { get; }

    /// <param name="gradient">g = ∂ℓ/∂z*, [batch, d].</param>
    /// <param name="w0">Initial guess (e.g. the previous step's w), or null for g.</param>
    SolverResult<T> Solve<T>(IAdjointMap<T> map, Tensor<T> gradient, SolverOptions options, Tensor<T>? w0 = null) where T : unmanaged, IFloatingPointIeee754<T>;
}

/// <summary>Checks the inputs and the structure the solver requires once, then runs the solver.</summary>
public abstract class AdjointSolver : IAdjointSolver
{
    public abstract string Name { get; }
    public virtual AdjointStructure Requires => AdjointStructure.None;

    public SolverResult<T> Solve<T>(IAdjointMap<T> map, Tensor<T> gradient, SolverOptions options, Tensor<T>? w0 = null) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(gradient);
        ArgumentNullException.ThrowIfNull(options);
        if (gradient.Rank != 2 || gradient.Shape[0] != map.Batch || gradient.Shape[1] != map.Dimension)
            throw new ShapeException($"adjoint: the gradient must be [{map.Batch}, {map.Dimension}], got [{string.Join(", ", gradient.Shape)}]");
        // A bit test, not HasFlag: unoptimised (tier-0) code boxes HasFlag's operands on every solve.
        if ((Requires & AdjointStructure.Symmetric) != 0 && map is not ISymmetricAdjointMap<T>)
            throw new ArgumentException($"adjoint: {Name} needs a symmetric adjoint map (an OptEqMap, as the OptEq layers give); use fixed-point or anderson for other maps");
        return Run(map, gradient, options, w0);
    }

    protected abstract SolverResult<T> Run<T>(IAdjointMap<T> map, Tensor<T> gradient, SolverOptions options, Tensor<T>? w0) where T : unmanaged, IFloatingPointIeee754<T>;

    public override string ToString() => Name;
}

/// <summary>
/// A forward solver applied to the adjoint fixed point w ↦ (∂T/∂z)ᵀ·w + g (<see cref="AdjointFixedPointMap{T}"/>):
/// every forward solver is also an adjoint solver. The solver is this one's own; options.Solver is not read.
/// </summary>
public sealed class FixedPointAdjointSolver(string name, IForwardSolver forward) : AdjointSolver
{
    public override string Name { get; } = name;
    public IForwardSolver Forward { get; } = forward;

    protected override SolverResult<T> Run<T>(IAdjointMap<T> map, Tensor<T> gradient, SolverOptions options, Tensor<T>? w0)
        => Forward.Solve(AdjointFixedPointMap<T>.For(map, gradient), w0 ?? gradient, options);
}

/// <summary>The built-in adjoint solvers.</summary>
public static class AdjointSolvers
{
    /// <summary>Fixed-point iteration on w = (∂T/∂z)ᵀw + g (Picard on the adjoint map).</summary>
    public static IAdjointSolver FixedPoint { get; } = new FixedPointAdjointSolver("fixed-point", ForwardSolvers.Picard);
    /// <summary>Anderson acceleration on the adjoint map; the default, as it needs no structure.</summary>
    public static IAdjointSolver Anderson { get; } = new FixedPointAdjointSolver("anderson", ForwardSolvers.Anderson);
    /// <summary>Batched conjugate gradient on the symmetric form of an OptEq adjoint (docs/math.md §1.6).</summary>
    public static IAdjointSolver ConjugateGradient { get; } = new ConjugateGradientAdjoint();
}
