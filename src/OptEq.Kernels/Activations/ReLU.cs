using System.Numerics;

namespace OptEq.Kernels.Activations;

/// <summary>σ(v) = max(v, 0); f = indicator of y ≥ 0.</summary>
public readonly struct ReLU<T> : IProxActivation<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    // NaN must come out as NaN (v > 0 is false for NaN): a NaN swallowed here hides a broken model from its loss.
    public T Value(T v) => v > T.Zero || T.IsNaN(v) ? v : T.Zero;
    public T Derivative(T v) => v > T.Zero ? T.One : T.Zero;
    public T Penalty(T y) => y >= T.Zero ? T.Zero : T.PositiveInfinity;
}
