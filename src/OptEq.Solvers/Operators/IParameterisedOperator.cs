namespace OptEq.Solvers.Operators;

/// <summary>
/// A linear operator built from weight tensors (a convolution's kernel, the blocks of a multi-tier operator), with the
/// gradient of the bilinear form ⟨g, A·v⟩ in its weights: what an equilibrium's backward pass and a spectral
/// reparameterisation need to differentiate through the operator without forming it.
/// </summary>
public interface IParameterisedOperator<T> : ILinearOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The weight tensors the operator reads at every application.</summary>
    IReadOnlyList<Tensor<T>> Weights { get; }

    /// <summary>gradients[i] += Σ_rows ∂⟨gradOutput, A·input⟩/∂Weights[i]; input [batch, InputSize], gradOutput [batch, OutputSize].</summary>
    void AccumulateWeightGradients(Tensor<T> input, Tensor<T> gradOutput, IReadOnlyList<Tensor<T>> gradients);
}
