namespace OptEq.Solvers;

/// <summary>
/// The adjoint equation as a fixed point, w ↦ (∂T/∂z)ᵀ·w + g, so every forward solver (Picard, Anderson, Broyden…)
/// is also an adjoint solver. It contracts whenever T does (same Lipschitz bound).
/// </summary>
public sealed class AdjointFixedPointMap<T>(IAdjointMap<T> map, Tensor<T> gradient) : IFixedPointMap<T>, IContractiveMap<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public Device Device => map.Device;
    public int Batch => map.Batch;
    public int Dimension => map.Dimension;
    public double LipschitzBound => map is IContractiveMap<T> c ? c.LipschitzBound : double.NaN;

    public void Apply(Tensor<T> w, Tensor<T> result) => map.VectorJacobianProductPlus(w, gradient, result);
}
