using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace OptEq.Kernels.Native;

/// <summary>
/// The loops of the native backend, one per shape, each written once for every width: elementwise maps of one, two or
/// three inputs and a row reduction. A map runs the widest width <see cref="SimdWidth.Current"/> allows, then each
/// narrower accelerated width on what is left, then the scalar method on the last elements; since every width does the
/// same operations, the result does not depend on where the tail starts. Outputs may alias inputs elementwise (in place).
/// </summary>
internal static unsafe class VectorDriver
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Map<T, TOp>(TOp op, T* x, T* result, int n) where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IUnaryOp<T>
    {
        int j = 0;
        var width = SimdWidth.Current;
        if (width >= VectorWidth.Bits512)
            for (; j <= n - Vector512<T>.Count; j += Vector512<T>.Count)
                Vector512.Store(op.Invoke(Vector512.Load(x + j)), result + j);
        if (width >= VectorWidth.Bits256)
            for (; j <= n - Vector256<T>.Count; j += Vector256<T>.Count)
                Vector256.Store(op.Invoke(Vector256.Load(x + j)), result + j);
        if (width >= VectorWidth.Bits128)
            for (; j <= n - Vector128<T>.Count; j += Vector128<T>.Count)
                Vector128.Store(op.Invoke(Vector128.Load(x + j)), result + j);
        for (; j < n; j++) result[j] = op.Invoke(x[j]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Map<T, TOp>(TOp op, T* x, T* y, T* result, int n) where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IBinaryOp<T>
    {
        int j = 0;
        var width = SimdWidth.Current;
        if (width >= VectorWidth.Bits512)
            for (; j <= n - Vector512<T>.Count; j += Vector512<T>.Count)
                Vector512.Store(op.Invoke(Vector512.Load(x + j), Vector512.Load(y + j)), result + j);
        if (width >= VectorWidth.Bits256)
            for (; j <= n - Vector256<T>.Count; j += Vector256<T>.Count)
                Vector256.Store(op.Invoke(Vector256.Load(x + j), Vector256.Load(y + j)), result + j);
        if (width >= VectorWidth.Bits128)
            for (; j <= n - Vector128<T>.Count; j += Vector128<T>.Count)
                Vector128.Store(op.Invoke(Vector128.Load(x + j), Vector128.Load(y + j)), result + j);
        for (; j < n; j++) result[j] = op.Invoke(x[j], y[j]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Map<T, TOp>(TOp op, T* x, T* y, T* z, T* result, int n) where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, ITernaryOp<T>
    {
        int j = 0;
        var width = SimdWidth.Current;
        if (width >= VectorWidth.Bits512)
            for (; j <= n - Vector512<T>.Count; j += Vector512<T>.Count)
                Vector512.Store(op.Invoke(Vector512.Load(x + j), Vector512.Load(y + j), Vector512.Load(z + j)), result + j);
        if (width >= VectorWidth.Bits256)
            for (; j <= n - Vector256<T>.Count; j += Vector256<T>.Count)
                Vector256.Store(op.Invoke(Vector256.Load(x + j), Vector256.Load(y + j), Vector256.Load(z + j)), result + j);
        if (width >= VectorWidth.Bits128)
            for (; j <= n - Vector128<T>.Count; j += Vector128<T>.Count)
                Vector128.Store(op.Invoke(Vector128.Load(x + j), Vector128.Load(y + j), Vector128.Load(z + j)), result + j);
        for (; j < n; j++) result[j] = op.Invoke(x[j], y[j], z[j]);
    }

    /// <summary>
    /// Reduces x (and y, for two-operand reductions; pass x again when there is none) at <see cref="SimdWidth.Current"/>
    /// with one accumulator, then the scalar tail. At 512 bits this is the order the backend always used; at narrower widths the
    /// partial sums are grouped differently (floating-point addition is not associative), nothing else changes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Reduce<T, TOp>(TOp op, T* x, T* y, int n) where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IReduceOp<T>
    {
        int j = 0;
        T vectors = T.Zero;
        switch (SimdWidth.Current)
        {
            case VectorWidth.Bits512:
            {
                var acc = Vector512<T>.Zero;
                for (; j <= n - Vector512<T>.Count; j += Vector512<T>.Count) acc = op.Accumulate(acc, Vector512.Load(x + j), Vector512.Load(y + j));
                vectors = op.Fold(acc);
                break;
            }
            case VectorWidth.Bits256:
            {
                var acc = Vector256<T>.Zero;
                for (; j <= n - Vector256<T>.Count; j += Vector256<T>.Count) acc = op.Accumulate(acc, Vector256.Load(x + j), Vector256.Load(y + j));
                vectors = op.Fold(acc);
                break;
            }
            case VectorWidth.Bits128:
            {
                var acc = Vector128<T>.Zero;
                for (; j <= n - Vector128<T>.Count; j += Vector128<T>.Count) acc = op.Accumulate(acc, Vector128.Load(x + j), Vector128.Load(y + j));
                vectors = op.Fold(acc);
                break;
            }
        }
        T tail = T.Zero;
        for (; j < n; j++) tail = op.Accumulate(tail, x[j], y[j]);
        return op.Combine(vectors, tail);
    }
}
