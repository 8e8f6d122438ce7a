using System.Numerics;

namespace OptEq.Kernels.Activations;

/// <summary>σ(v) = v for v ≥ 0, a·v below; f(y) = (1/a − 1)·y²/2 for y &lt; 0, 0 above. Slope a in (0, 1].</summary>
public readonly struct LeakyReLU<T>(T slope) : IProxActivation<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Slope { get; } = slope;
    public T Value(T v) => v >= T.Zero ? v : Slope * v;
    public T Derivative(T v) => v > T.Zero ? T.One : Slope;
    public T Penalty(T y) => y >= T.Zero ? T.Zero : (T.One / Slope - T.One) * y * y * Num<T>.Half;
}
