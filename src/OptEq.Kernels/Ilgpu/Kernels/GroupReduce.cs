using System.Numerics;
using ILGPU;

namespace OptEq.Kernels.Ilgpu.Kernels;

/// <summary>An associative, commutative combination used by group reductions.</summary>
public interface ICombine<T> where T : unmanaged
{
    T Combine(T a, T b);
}

public struct SumCombine<T> : ICombine<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Combine(T a, T b) => a + b;
}

/// <summary>
/// max(a, b) that propagates NaN. Written out rather than T.Max: ILGPU maps Math.Max to the hardware max, which on
/// PTX returns the non-NaN operand, while a NaN residual must never look small.
/// </summary>
public struct MaxCombine<T> : ICombine<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Combine(T a, T b) => T.IsNaN(a) || a > b ? a : b;
}

/// <summary>Reductions across the threads of a one-dimensional group whose size is a power of two.</summary>
public static class GroupReduce
{
    /// <summary>
    /// Combines every thread's <paramref name="value"/> by a tree in shared memory (<paramref name="scratch"/> has one
    /// element per thread) and returns the result to every thread. All threads of the group must call it.
    /// </summary>
    public static T Reduce<T, TCombine>(ArrayView<T> scratch, T value)
        where T : unmanaged where TCombine : struct, ICombine<T>
    {
        int t = Group.IdxX;
        scratch[t] = value;
        Group.Barrier();
        for (int half = Group.DimX / 2; half > 0; half /= 2)
        {
            if (t < half) scratch[t] = default(TCombine).Combine(scratch[t], scratch[t + half]);
            Group.Barrier();
        }
        T result = scratch[0];
        Group.Barrier(); // everyone has read scratch[0] before it is reused
        return result;
    }
}
