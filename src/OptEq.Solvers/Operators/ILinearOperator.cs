namespace OptEq.Solvers.Operators;

/// <summary>
/// A linear operator A acting on the rows of [batch, InputSize] tensors (one sample per row; rows never mix), with its
/// adjoint. Lets an equilibrium use a structured operator (a convolution, a block of convolutions) where the dense maps
/// use a matrix. Implementations hold no per-call state and allocate nothing per call.
/// </summary>
public interface ILinearOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    Device Device { get; }
    /// <summary>Features per sample of the argument of A.</summary>
    int InputSize { get; }
    /// <summary>Features per sample of A's result.</summary>
    int OutputSize { get; }

    /// <summary>result ← A·v + β·result, row by row: v [batch, InputSize], result [batch, OutputSize].</summary>
    void Apply(Tensor<T> v, Tensor<T> result, T beta);

    /// <summary>result ← Aᵀ·v + β·result, row by row: v [batch, OutputSize], result [batch, InputSize].</summary>
    void ApplyTranspose(Tensor<T> v, Tensor<T> result, T beta);
}
