using System.Numerics;
using System.Runtime.Intrinsics;

namespace OptEq.Kernels.Native;

/// <summary>x + y.</summary>
internal readonly struct AddOp<T> : IBinaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Invoke(T x, T y) => x + y;
    public Vector128<T> Invoke(Vector128<T> x, Vector128<T> y) => x + y;
    public Vector256<T> Invoke(Vector256<T> x, Vector256<T> y) => x + y;
    public Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => x + y;
}

/// <summary>x − y.</summary>
internal readonly struct SubtractOp<T> : IBinaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Invoke(T x, T y) => x - y;
    public Vector128<T> Invoke(Vector128<T> x, Vector128<T> y) => x - y;
    public Vector256<T> Invoke(Vector256<T> x, Vector256<T> y) => x - y;
    public Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => x - y;
}

/// <summary>α·x (y is not read: β = 0 never reads y, which may be uninitialised).</summary>
internal readonly struct ScaleOp<T>(T alpha) : IUnaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Invoke(T x) => alpha * x;
    public Vector128<T> Invoke(Vector128<T> x) => Vector128.Create(alpha) * x;
    public Vector256<T> Invoke(Vector256<T> x) => Vector256.Create(alpha) * x;
    public Vector512<T> Invoke(Vector512<T> x) => Vector512.Create(alpha) * x;
}

/// <summary>α·x + β·y (two roundings and an add, not a fused multiply-add: the same at every width and in the scalar path).</summary>
internal readonly struct AxpbyOp<T>(T alpha, T beta) : IBinaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Invoke(T x, T y) => alpha * x + beta * y;
    public Vector128<T> Invoke(Vector128<T> x, Vector128<T> y) => Vector128.Create(alpha) * x + Vector128.Create(beta) * y;
    public Vector256<T> Invoke(Vector256<T> x, Vector256<T> y) => Vector256.Create(alpha) * x + Vector256.Create(beta) * y;
    public Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => Vector512.Create(alpha) * x + Vector512.Create(beta) * y;
}

/// <summary>(z + α·x) + β·y: a mixing step that adds to what earlier steps wrote.</summary>
internal readonly struct AddAxpbyOp<T>(T alpha, T beta) : ITernaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Invoke(T z, T x, T y) => z + alpha * x + beta * y;
    public Vector128<T> Invoke(Vector128<T> z, Vector128<T> x, Vector128<T> y) => z + Vector128.Create(alpha) * x + Vector128.Create(beta) * y;
    public Vector256<T> Invoke(Vector256<T> z, Vector256<T> x, Vector256<T> y) => z + Vector256.Create(alpha) * x + Vector256.Create(beta) * y;
    public Vector512<T> Invoke(Vector512<T> z, Vector512<T> x, Vector512<T> y) => z + Vector512.Create(alpha) * x + Vector512.Create(beta) * y;
}

/// <summary>y + α·x: one step of a row-by-row GEMM.</summary>
internal readonly struct AxpyOp<T>(T alpha) : IBinaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Invoke(T x, T y) => alpha * x + y;
    public Vector128<T> Invoke(Vector128<T> x, Vector128<T> y) => Vector128.Create(alpha) * x + y;
    public Vector256<T> Invoke(Vector256<T> x, Vector256<T> y) => Vector256.Create(alpha) * x + y;
    public Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => Vector512.Create(alpha) * x + y;
}
