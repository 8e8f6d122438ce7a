namespace OptEq.Solvers;

/// <summary>
/// The adjoint equation as a fixed point, w ↦ (∂T/∂z)ᵀ·w + g, so every forward solver (Picard, Anderson, Broyden…)
/// is also an adjoint solver. It contracts whenever T does (same Lipschitz bound).
/// </summary>
public sealed class AdjointFixedPointMap<T>(IAdjointMap<T> map, Tensor<T> gradient) : IFixedPointMap<T>, IContractiveMap<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    [ThreadStatic] private static AdjointFixedPointMap<T>? _last;

    /// <summary>The adjoint map of (map, gradient): the one made last on this thread when it is for the same pair (a
    /// training step solves the same pair every step, and then allocates nothing here), else a new one.</summary>
    public static AdjointFixedPointMap<T> For(IAdjointMap<T> map, Tensor<T> gradient)
    {
        var last = _last;
        if (last is not null && ReferenceEquals(last.Map, map) && ReferenceEquals(last.Gradient, gradient)) return last;
        return _last = new AdjointFixedPointMap<T>(map, gradient);
    }

    public IAdjointMap<T> Map => map;
    public Tensor<T> Gradient => gradient;

    public Device Device => map.Device;
    public int Batch => map.Batch;
    public int Dimension => map.Dimension;
    public double LipschitzBound => map is IContractiveMap<T> c ? c.LipschitzBound : double.NaN;

    public void Apply(Tensor<T> w, Tensor<T> result) => map.VectorJacobianProductPlus(w, gradient, result);
}
