using System.Numerics;
using System.Runtime.Intrinsics;

namespace OptEq.Kernels.Native;

/// <summary>Σ x·y.</summary>
internal readonly struct DotOp<T> : IReduceOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Accumulate(T acc, T x, T y) => acc + x * y;
    public Vector128<T> Accumulate(Vector128<T> acc, Vector128<T> x, Vector128<T> y) => acc + x * y;
    public Vector256<T> Accumulate(Vector256<T> acc, Vector256<T> x, Vector256<T> y) => acc + x * y;
    public Vector512<T> Accumulate(Vector512<T> acc, Vector512<T> x, Vector512<T> y) => acc + x * y;
    public T Fold(Vector128<T> acc) => Vector128.Sum(acc);
    public T Fold(Vector256<T> acc) => Vector256.Sum(acc);
    public T Fold(Vector512<T> acc) => Vector512.Sum(acc);
    public T Combine(T vectors, T tail) => vectors + tail;
}

/// <summary>Σ x² (y ignored).</summary>
internal readonly struct SquaredNormOp<T> : IReduceOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Accumulate(T acc, T x, T y) => acc + x * x;
    public Vector128<T> Accumulate(Vector128<T> acc, Vector128<T> x, Vector128<T> y) => acc + x * x;
    public Vector256<T> Accumulate(Vector256<T> acc, Vector256<T> x, Vector256<T> y) => acc + x * x;
    public Vector512<T> Accumulate(Vector512<T> acc, Vector512<T> x, Vector512<T> y) => acc + x * x;
    public T Fold(Vector128<T> acc) => Vector128.Sum(acc);
    public T Fold(Vector256<T> acc) => Vector256.Sum(acc);
    public T Fold(Vector512<T> acc) => Vector512.Sum(acc);
    public T Combine(T vectors, T tail) => vectors + tail;
}

/// <summary>Σ (x − y)².</summary>
internal readonly struct SquaredDistanceOp<T> : IReduceOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Accumulate(T acc, T x, T y) { T d = x - y; return acc + d * d; }
    public Vector128<T> Accumulate(Vector128<T> acc, Vector128<T> x, Vector128<T> y) { var d = x - y; return acc + d * d; }
    public Vector256<T> Accumulate(Vector256<T> acc, Vector256<T> x, Vector256<T> y) { var d = x - y; return acc + d * d; }
    public Vector512<T> Accumulate(Vector512<T> acc, Vector512<T> x, Vector512<T> y) { var d = x - y; return acc + d * d; }
    public T Fold(Vector128<T> acc) => Vector128.Sum(acc);
    public T Fold(Vector256<T> acc) => Vector256.Sum(acc);
    public T Fold(Vector512<T> acc) => Vector512.Sum(acc);
    public T Combine(T vectors, T tail) => vectors + tail;
}

/// <summary>Σ x (y ignored).</summary>
internal readonly struct SumOp<T> : IReduceOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Accumulate(T acc, T x, T y) => acc + x;
    public Vector128<T> Accumulate(Vector128<T> acc, Vector128<T> x, Vector128<T> y) => acc + x;
    public Vector256<T> Accumulate(Vector256<T> acc, Vector256<T> x, Vector256<T> y) => acc + x;
    public Vector512<T> Accumulate(Vector512<T> acc, Vector512<T> x, Vector512<T> y) => acc + x;
    public T Fold(Vector128<T> acc) => Vector128.Sum(acc);
    public T Fold(Vector256<T> acc) => Vector256.Sum(acc);
    public T Fold(Vector512<T> acc) => Vector512.Sum(acc);
    public T Combine(T vectors, T tail) => vectors + tail;
}

/// <summary>max |x| (y ignored). NaN propagates (a residual that is NaN is not small): vector Max and T.Max both propagate it.</summary>
internal readonly struct MaxAbsOp<T> : IReduceOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Accumulate(T acc, T x, T y) => T.Max(acc, T.Abs(x));
    public Vector128<T> Accumulate(Vector128<T> acc, Vector128<T> x, Vector128<T> y) => Vector128.Max(acc, Vector128.Abs(x));
    public Vector256<T> Accumulate(Vector256<T> acc, Vector256<T> x, Vector256<T> y) => Vector256.Max(acc, Vector256.Abs(x));
    public Vector512<T> Accumulate(Vector512<T> acc, Vector512<T> x, Vector512<T> y) => Vector512.Max(acc, Vector512.Abs(x));
    public T Fold(Vector128<T> acc) { T m = T.Zero; for (int l = 0; l < Vector128<T>.Count; l++) m = T.Max(m, acc[l]); return m; }
    public T Fold(Vector256<T> acc) { T m = T.Zero; for (int l = 0; l < Vector256<T>.Count; l++) m = T.Max(m, acc[l]); return m; }
    public T Fold(Vector512<T> acc) { T m = T.Zero; for (int l = 0; l < Vector512<T>.Count; l++) m = T.Max(m, acc[l]); return m; }
    public T Combine(T vectors, T tail) => T.Max(vectors, tail);
}
