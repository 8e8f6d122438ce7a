using System.Numerics;

namespace OptEq.Kernels;

/// <summary>Three values, what an <see cref="IScalarUpdate{T}"/> returns (a plain struct, which ILGPU kernels can carry).</summary>
public struct Triple<T>(T a, T b, T c) where T : unmanaged
{
    public T A = a, B = b, C = c;
}

/// <summary>
/// An elementwise update of three tensors in place from a fourth, for <see cref="ElementwiseExtensions.UpdateInPlace{T,TOp}"/>:
/// (a, b, c) ← Apply(a, b, c, d). One pass where three maps would make three (an optimizer's moments and parameter).
/// </summary>
public interface IScalarUpdate<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    Triple<T> Apply(T a, T b, T c, T d);
}
