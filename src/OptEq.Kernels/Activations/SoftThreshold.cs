using System.Numerics;

namespace OptEq.Kernels.Activations;

/// <summary>σ(v) = sign(v)·max(|v| − λ, 0); f(y) = λ|y|. Gives sparse equilibria.</summary>
public readonly struct SoftThreshold<T>(T lambda) : IProxActivation<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Lambda { get; } = lambda;
    public T Value(T v) => v > Lambda ? v - Lambda : v < -Lambda ? v + Lambda : T.IsNaN(v) ? v : T.Zero; // NaN propagates
    public T Derivative(T v) => T.Abs(v) > Lambda ? T.One : T.Zero;
    public T Penalty(T y) => Lambda * T.Abs(y);
}
