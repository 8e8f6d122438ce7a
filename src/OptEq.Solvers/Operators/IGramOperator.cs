namespace OptEq.Solvers.Operators;

/// <summary>
/// K = WᵀW for a linear operator W, however it is applied (<see cref="GramOperator{T}"/>: W then Wᵀ;
/// <see cref="BlockedGramOperator{T}"/>: the same over cache-sized row blocks; <see cref="FourierGramOperator{T}"/>: in the
/// Fourier domain): what the OptEq map with a structured W needs of its metric. See <see cref="GramMethod"/>.
/// </summary>
public interface IGramOperator<T> : ILinearOperator<T>, IDisposable where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>W.</summary>
    ILinearOperator<T> Root { get; }

    /// <summary>W·v into a scratch of the operator, [batch, W.OutputSize] (valid until the next call); for ||W v||².</summary>
    Tensor<T> ApplyRoot(Tensor<T> v);

    /// <summary>
    /// Brings what the operator precomputes from W's weights up to date (the Fourier spectrum); nothing for an operator
    /// that reads the weights at every application. Called once per forward pass, after the weights are rewritten and
    /// before the solve, never inside it.
    /// </summary>
    void Refresh();
}
