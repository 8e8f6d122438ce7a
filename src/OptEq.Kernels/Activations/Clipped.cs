using System.Numerics;

namespace OptEq.Kernels.Activations;

/// <summary>
/// prox of f + ι_[lo, hi]: for a convex f of one variable this is σ(v) clamped to [lo, hi] (docs/math.md §1.4, a box
/// constraint on the equilibrium — e.g. a clipped ReLU).
/// </summary>
public readonly struct Clipped<T, TInner>(TInner inner, T lo, T hi) : IProxActivation<T>
    where T : unmanaged, IFloatingPointIeee754<T> where TInner : struct, IProxActivation<T>
{
    public TInner Inner { get; } = inner;
    public T Lo { get; } = lo;
    public T Hi { get; } = hi;

    public T Value(T v)
    {
        T y = Inner.Value(v);
        return y < Lo ? Lo : y > Hi ? Hi : y;
    }

    public T Derivative(T v)
    {
        T y = Inner.Value(v);
        return y > Lo && y < Hi ? Inner.Derivative(v) : T.Zero;
    }

    public T Penalty(T y) => y >= Lo && y <= Hi ? Inner.Penalty(y) : T.PositiveInfinity;
}
