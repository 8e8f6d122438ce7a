using System.Numerics;

namespace OptEq.Kernels.Activations;

/// <summary>σ(v) = clip(v, −1, 1); f = indicator of [−1, 1].</summary>
public readonly struct HardTanh<T> : IProxActivation<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Value(T v) => v > T.One ? T.One : v < -T.One ? -T.One : v;
    public T Derivative(T v) => T.Abs(v) < T.One ? T.One : T.Zero;
    public T Penalty(T y) => T.Abs(y) <= T.One ? T.Zero : T.PositiveInfinity;
}
