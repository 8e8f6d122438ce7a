using System.Numerics;

namespace OptEq.Kernels.Activations;

/// <summary>σ(v) = 1/(1 + e^−v); f(y) = y ln y + (1−y) ln(1−y) − y²/2 on [0, 1].</summary>
public readonly struct Sigmoid<T> : IProxActivation<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Value(T v) => T.One / (T.One + T.Exp(-v));

    public T Derivative(T v)
    {
        T s = Value(v);
        return s * (T.One - s);
    }

    public T Penalty(T y)
    {
        if (y < T.Zero || y > T.One) return T.PositiveInfinity;
        return XLogX(y) + XLogX(T.One - y) - Num<T>.Half * y * y;
    }

    private static T XLogX(T x) => x > T.Zero ? x * T.Log(x) : T.Zero;
}
