using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using OptEq.Kernels.Activations;

namespace OptEq.Kernels.Native;

/// <summary>
/// σ and σ′ over one row segment: value[j] ← σ(v[j]), derivative[j] ← σ′(v[j]) (derivative may be null; value may be v).
/// The prox kernel and the GEMM epilogue share it. ReLU and the identity, the activations of the hot loops, run on the
/// <see cref="VectorDriver"/> with the scalar structs' exact semantics (NaN passes through ReLU, σ′(0) = 0); every other
/// activation runs its scalar struct.
/// </summary>
internal static unsafe class ActivationRows
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Apply<T, TAct>(TAct activation, T* v, T* value, T* derivative, int count)
        where T : unmanaged, IFloatingPointIeee754<T> where TAct : struct, IProxActivation<T>
    {
        // σ′ first: value may overwrite v.
        if (typeof(TAct) == typeof(ReLU<T>))
        {
            if (derivative != null) VectorDriver.Map(new ReluDerivativeOp<T>(), v, derivative, count);
            VectorDriver.Map(new ReluValueOp<T>(), v, value, count);
        }
        else if (typeof(TAct) == typeof(Identity<T>))
        {
            if (derivative != null) new Span<T>(derivative, count).Fill(T.One);
            if (value != v) new ReadOnlySpan<T>(v, count).CopyTo(new Span<T>(value, count));
        }
        else
        {
            for (int j = 0; j < count; j++)
            {
                T x = v[j];
                if (derivative != null) derivative[j] = activation.Derivative(x);
                value[j] = activation.Value(x);
            }
        }
    }

    /// <summary>ReLU's σ: x where x &gt; 0 or x is NaN (NaN ≠ NaN), else 0 (as <see cref="ReLU{T}.Value"/>).</summary>
    private readonly struct ReluValueOp<T> : IUnaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T Invoke(T x) => default(ReLU<T>).Value(x);
        public Vector128<T> Invoke(Vector128<T> x) => x & (Vector128.GreaterThan(x, Vector128<T>.Zero) | ~Vector128.Equals(x, x));
        public Vector256<T> Invoke(Vector256<T> x) => x & (Vector256.GreaterThan(x, Vector256<T>.Zero) | ~Vector256.Equals(x, x));
        public Vector512<T> Invoke(Vector512<T> x) => x & (Vector512.GreaterThan(x, Vector512<T>.Zero) | ~Vector512.Equals(x, x));
    }

    /// <summary>ReLU's σ′: 1 where x &gt; 0, else 0 (NaN: 0), as <see cref="ReLU{T}.Derivative"/>.</summary>
    private readonly struct ReluDerivativeOp<T> : IUnaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T Invoke(T x) => default(ReLU<T>).Derivative(x);
        public Vector128<T> Invoke(Vector128<T> x) => Vector128.GreaterThan(x, Vector128<T>.Zero) & Vector128<T>.One;
        public Vector256<T> Invoke(Vector256<T> x) => Vector256.GreaterThan(x, Vector256<T>.Zero) & Vector256<T>.One;
        public Vector512<T> Invoke(Vector512<T> x) => Vector512.GreaterThan(x, Vector512<T>.Zero) & Vector512<T>.One;
    }
}
