using OptEq.Solvers.Maps;

namespace OptEq.Solvers;

public enum AdjointKind
{
    /// <summary>Fixed-point iteration on w = (∂T/∂z)ᵀw + g (Picard on the adjoint map).</summary>
    FixedPoint,
    /// <summary>Anderson acceleration on the adjoint map.</summary>
    Anderson,
    /// <summary>Batched conjugate gradient on the symmetric form (I − J^½ M J^½) y = J^½ g of an OptEq adjoint (MATH.md §1.6).</summary>
    ConjugateGradient,
}

/// <summary>
/// Solves the implicit backward pass w = (∂T/∂z*)ᵀ·w + g. Returns w with per-sample statistics (the same
/// <see cref="SolverResult{T}"/> as forward solves). The caller must have called map.PrepareAdjoint(z*).
/// </summary>
public static class AdjointSolver
{
    public static IReadOnlyList<string> ValidNames { get; } = ["fixed-point", "anderson", "cg"];

    public static AdjointKind Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "fixed-point" or "picard" => AdjointKind.FixedPoint,
        "anderson" => AdjointKind.Anderson,
        "cg" or "conjugate-gradient" => AdjointKind.ConjugateGradient,
        _ => throw new ArgumentException($"unknown adjoint solver '{name}'; valid: {string.Join(", ", ValidNames)}"),
    };

    /// <param name="gradient">g = ∂ℓ/∂z*, [batch, d].</param>
    /// <param name="w0">Initial guess (e.g. the previous step's w), or null for g.</param>
    public static SolverResult<T> Solve<T>(AdjointKind kind, IAdjointMap<T> map, Tensor<T> gradient, SolverOptions options, Tensor<T>? w0 = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(map);
        if (gradient.Rank != 2 || gradient.Shape[0] != map.Batch || gradient.Shape[1] != map.Dimension)
            throw new ShapeException($"adjoint: the gradient must be [{map.Batch}, {map.Dimension}], got [{string.Join(", ", gradient.Shape)}]");
        switch (kind)
        {
            case AdjointKind.ConjugateGradient:
                if (map is not OptEqMap<T> optEq)
                    throw new ArgumentException("adjoint: conjugate gradient needs the symmetric OptEq adjoint (an OptEqMap); use fixed-point or anderson for other maps");
                return ConjugateGradientAdjoint.Solve(optEq, gradient, options, w0);
            default:
                var solver = SolverRegistry.Create(kind == AdjointKind.Anderson ? SolverKind.Anderson : SolverKind.Picard);
                return solver.Solve(AdjointFixedPointMap<T>.For(map, gradient), w0 ?? gradient, options);
        }
    }
}
