using System.Numerics;

namespace OptEq.Kernels;

/// <summary>
/// An elementwise operation of up to four inputs, for <see cref="ElementwiseExtensions.Map{T,TOp}"/>. Like the activations it is a
/// public struct passed by value into kernels, so one kernel serves every operation. Unused inputs receive the first.
/// </summary>
public interface IScalarMap<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    T Apply(T a, T b, T c, T d);
}
