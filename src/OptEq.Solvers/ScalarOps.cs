namespace OptEq.Solvers;

// Elementwise operations for device.Map. Public structs, so the ILGPU backend can compile them into kernels.

/// <summary>a / b, and 0 where b is 0 or the quotient is not finite (a guarded step length).</summary>
public readonly struct SafeDivide<T> : IScalarMap<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Apply(T a, T b, T c, T d)
    {
        T q = a / b;
        return b != T.Zero && T.IsFinite(q) ? q : T.Zero;
    }
}

/// <summary>√max(a, 0).</summary>
public readonly struct SqrtNonNegative<T> : IScalarMap<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Apply(T a, T b, T c, T d) => T.Sqrt(a > T.Zero ? a : T.Zero);
}

/// <summary>a·b.</summary>
public readonly struct Multiply<T> : IScalarMap<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Apply(T a, T b, T c, T d) => a * b;
}

/// <summary>scale·a + shift.</summary>
public readonly struct Affine<T>(T scale, T shift) : IScalarMap<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Scale { get; } = scale;
    public T Shift { get; } = shift;
    public T Apply(T a, T b, T c, T d) => Scale * a + Shift;
}

/// <summary>
/// FISTA's next t with adaptive restart: a = t, b = G(new), c = G(old). Restart (t ← 1) when the objective went up
/// or is not finite; else t ← (1 + √(1 + 4t²)) / 2.
/// </summary>
public readonly struct FistaNextT<T> : IScalarMap<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Apply(T t, T gNew, T gOld, T d)
    {
        if (!(gNew <= gOld)) return T.One;
        T two = T.One + T.One;
        return (T.One + T.Sqrt(T.One + two * two * t * t)) / two;
    }
}

/// <summary>FISTA's momentum (t − 1)/t′ from a = t (old), b = t′ (new); zero after a restart (t′ = 1).</summary>
public readonly struct FistaMomentum<T> : IScalarMap<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Apply(T t, T tNext, T c, T d) => tNext == T.One ? T.Zero : (t - T.One) / tNext;
}
