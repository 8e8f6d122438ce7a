using System.Numerics;

namespace OptEq.Kernels.Activations;

/// <summary>σ(v) = ln(1 + e^v); f(y) = Li₂(e^−y) on y ≥ 0 (Li₂ the dilogarithm).</summary>
public readonly struct Softplus<T> : IProxActivation<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    // ln(1 + e^v) without overflow: max(v, 0) + ln(1 + e^−|v|).
    public T Value(T v) => (v > T.Zero ? v : T.Zero) + T.Log(T.One + T.Exp(-T.Abs(v)));

    public T Derivative(T v) => T.One / (T.One + T.Exp(-v));

    public T Penalty(T y)
    {
        if (y < T.Zero) return T.PositiveInfinity;
        return Dilogarithm(T.Exp(-y));
    }

    /// <summary>Li₂(x) for x in [0, 1]: the power series below ½, the reflection Li₂(x) = π²/6 − ln x ln(1−x) − Li₂(1−x) above.</summary>
    public static T Dilogarithm(T x)
    {
        bool reflect = x > Num<T>.Half;
        T u = reflect ? T.One - x : x;
        T sum = T.Zero, power = u, k = T.One;
        // 56 terms: u ≤ ½ gives a remainder below 2^-56 / 56², under float64's epsilon.
        for (int i = 0; i < 56; i++)
        {
            sum += power / (k * k);
            power *= u;
            k += T.One;
        }
        if (!reflect) return sum;
        T log = x > T.Zero ? T.Log(x) : T.Zero;
        T log1m = u > T.Zero ? T.Log(u) : T.Zero;
        return T.Pi * T.Pi / (Num<T>.Two * (Num<T>.Two + T.One)) - log * log1m - sum;
    }
}
