using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using OptEq.Kernels.Activations;

namespace OptEq.Kernels.Native;

/// <summary>
/// σ and σ′ over one row segment: value[j] ← σ(v[j]), derivative[j] ← σ′(v[j]) (derivative may be null; value may be v).
/// The prox kernel and the GEMM epilogue share it. ReLU and the identity, the activations of the hot loops, have
/// Vector512 paths with the scalar structs' exact semantics (NaN passes through ReLU, σ′(0) = 0); every other
/// activation runs its scalar struct.
/// </summary>
internal static unsafe class ActivationRows
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Apply<T, TAct>(TAct activation, T* v, T* value, T* derivative, int count)
        where T : unmanaged, IFloatingPointIeee754<T> where TAct : struct, IProxActivation<T>
    {
        int j = 0;
        if (typeof(TAct) == typeof(ReLU<T>) && Vector512.IsHardwareAccelerated)
        {
            for (; j <= count - Vector512<T>.Count; j += Vector512<T>.Count)
            {
                var x = Vector512.Load(v + j);
                var positive = Vector512.GreaterThan(x, Vector512<T>.Zero);
                if (derivative != null) Vector512.Store(positive & Vector512<T>.One, derivative + j);
                // keep x where x > 0 or x is NaN (NaN ≠ NaN), else 0
                Vector512.Store(x & (positive | ~Vector512.Equals(x, x)), value + j);
            }
        }
        else if (typeof(TAct) == typeof(Identity<T>) && Vector512.IsHardwareAccelerated)
        {
            for (; j <= count - Vector512<T>.Count; j += Vector512<T>.Count)
            {
                if (derivative != null) Vector512.Store(Vector512<T>.One, derivative + j);
                if (value != v) Vector512.Store(Vector512.Load(v + j), value + j);
            }
        }
        for (; j < count; j++)
        {
            T x = v[j];
            if (derivative != null) derivative[j] = activation.Derivative(x);
            value[j] = activation.Value(x);
        }
    }
}
