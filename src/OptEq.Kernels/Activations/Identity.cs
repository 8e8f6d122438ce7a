using System.Numerics;

namespace OptEq.Kernels.Activations;

/// <summary>σ(v) = v; f = 0. Makes affine maps (linear DEQs, test problems) a special case of the activation maps.</summary>
public readonly struct Identity<T> : IProxActivation<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Value(T v) => v;
    public T Derivative(T v) => T.One;
    public T Penalty(T y) => T.Zero;
}
