using System.Numerics;

namespace OptEq.Kernels.Activations;

/// <summary>
/// A nondecreasing 1-Lipschitz activation σ = prox_f with its convex f (docs/math.md §1.1). One struct serves the
/// ILGPU kernels (it is passed by value into them) and the native CPU path, so both compute the same thing.
/// Structs must be public for ILGPU to generate code for them.
/// </summary>
public interface IProxActivation<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>σ(v) = prox_f(v).</summary>
    T Value(T v);

    /// <summary>σ′(v); at kinks the right-continuous branch is not promised, only an element of the Clarke Jacobian (0 at ReLU's kink).</summary>
    T Derivative(T v);

    /// <summary>f(y), +∞ outside the closure of σ's range. Defined up to an additive constant.</summary>
    T Penalty(T y);
}

/// <summary>Constants for generic code that must also compile under ILGPU (no conversions from double).</summary>
public static class Num<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static T Half => T.One / (T.One + T.One);
    public static T Two => T.One + T.One;
}
