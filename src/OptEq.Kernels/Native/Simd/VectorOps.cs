using System.Numerics;
using System.Runtime.Intrinsics;

namespace OptEq.Kernels.Native;

// The operations the drivers run, in the manner of System.Numerics.Tensors' TensorPrimitives: a readonly struct with a
// scalar method and one method per vector width. The scalar method is the definition; each vector method does the same
// IEEE operations lane by lane, so an elementwise result does not depend on the width (tests sweep this).

/// <summary>r = f(x).</summary>
internal interface IUnaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    T Invoke(T x);
    Vector128<T> Invoke(Vector128<T> x);
    Vector256<T> Invoke(Vector256<T> x);
    Vector512<T> Invoke(Vector512<T> x);
}

/// <summary>r = f(x, y).</summary>
internal interface IBinaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    T Invoke(T x, T y);
    Vector128<T> Invoke(Vector128<T> x, Vector128<T> y);
    Vector256<T> Invoke(Vector256<T> x, Vector256<T> y);
    Vector512<T> Invoke(Vector512<T> x, Vector512<T> y);
}

/// <summary>r = f(x, y, z).</summary>
internal interface ITernaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    T Invoke(T x, T y, T z);
    Vector128<T> Invoke(Vector128<T> x, Vector128<T> y, Vector128<T> z);
    Vector256<T> Invoke(Vector256<T> x, Vector256<T> y, Vector256<T> z);
    Vector512<T> Invoke(Vector512<T> x, Vector512<T> y, Vector512<T> z);
}

/// <summary>
/// A row reduction: acc ← Accumulate(acc, x, y) element by element from zero, lanes folded by <c>Fold</c>, the scalar
/// tail folded in by <c>Combine</c>. Only the order of the folding depends on the width.
/// </summary>
internal interface IReduceOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    T Accumulate(T acc, T x, T y);
    Vector128<T> Accumulate(Vector128<T> acc, Vector128<T> x, Vector128<T> y);
    Vector256<T> Accumulate(Vector256<T> acc, Vector256<T> x, Vector256<T> y);
    Vector512<T> Accumulate(Vector512<T> acc, Vector512<T> x, Vector512<T> y);
    T Fold(Vector128<T> acc);
    T Fold(Vector256<T> acc);
    T Fold(Vector512<T> acc);
    /// <summary>The folded vector part with the scalar tail (which started from zero).</summary>
    T Combine(T vectors, T tail);
}
