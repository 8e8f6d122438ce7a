using System.Numerics;

namespace OptEq.Kernels.Activations;

/// <summary>σ = tanh; f(y) = ½[(1+y)ln(1+y) + (1−y)ln(1−y)] − y²/2 on [−1, 1].</summary>
public readonly struct Tanh<T> : IProxActivation<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Value(T v) => T.Tanh(v);

    public T Derivative(T v)
    {
        T t = T.Tanh(v);
        return T.One - t * t;
    }

    public T Penalty(T y)
    {
        if (y < -T.One || y > T.One) return T.PositiveInfinity;
        return Num<T>.Half * (XLogX(T.One + y) + XLogX(T.One - y)) - Num<T>.Half * y * y;
    }

    private static T XLogX(T x) => x > T.Zero ? x * T.Log(x) : T.Zero;
}
