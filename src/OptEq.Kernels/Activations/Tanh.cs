using System.Numerics;

namespace OptEq.Kernels.Activations;

/// <summary>σ = tanh; f(y) = ½[(1+y)ln(1+y) + (1−y)ln(1−y)] − y²/2 on [−1, 1].</summary>
/// <remarks>
/// Computed from exp rather than T.Tanh: ILGPU lowers a float32 tanh to PTX's tanh.approx.f32, whose error (2⁻¹¹ relative
/// by PTX's specification; 114 units in the last place measured on an H200) fails the prox family's 64-unit bound, while
/// exp is accurate there to a few units. Below ½, where 1 − e^−2|v| would cancel, Lambert's continued fraction
/// tanh v = v/(1 + v²/(3 + v²/(5 + …))) cut at 15 (truncation below 10⁻¹⁶ relative at ½) keeps the relative error at a few
/// units in both precisions, on every backend.
/// </remarks>
public readonly struct Tanh<T> : IProxActivation<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Value(T v)
    {
        T a = T.Abs(v);
        if (a < Num<T>.Half)
        {
            T v2 = v * v, two = Num<T>.Two, odd = T.One;
            for (int i = 0; i < 7; i++) odd += two;    // 15
            T d = odd;
            for (int i = 0; i < 7; i++)                 // 13 + v²/d, …, 1 + v²/d
            {
                odd -= two;
                d = odd + v2 / d;
            }
            return v / d;
        }
        T e = T.Exp(-(a + a));                          // in (0, e⁻¹]: no overflow, no cancellation in 1 − e
        return T.CopySign((T.One - e) / (T.One + e), v);
    }

    public T Derivative(T v)
    {
        T t = Value(v);
        return T.One - t * t;
    }

    public T Penalty(T y)
    {
        if (y < -T.One || y > T.One) return T.PositiveInfinity;
        return Num<T>.Half * (XLogX(T.One + y) + XLogX(T.One - y)) - Num<T>.Half * y * y;
    }

    private static T XLogX(T x) => x > T.Zero ? x * T.Log(x) : T.Zero;
}
