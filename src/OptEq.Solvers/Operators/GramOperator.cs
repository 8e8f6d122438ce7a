namespace OptEq.Solvers.Operators;

/// <summary>
/// K = WᵀW for a linear operator W (OptEq's metric M, docs/math.md §1.2), applied as W then Wᵀ without forming K.
/// Symmetric positive semidefinite. Holds one [batch, W.OutputSize] scratch from the device pool, rented at
/// construction, so applications allocate nothing; it serves rows of that batch size only.
/// </summary>
public sealed class GramOperator<T> : IGramOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Tensor<T> _scratch;

    public GramOperator(ILinearOperator<T> w, int batch)
    {
        ArgumentNullException.ThrowIfNull(w);
        if (batch < 1) throw new ArgumentOutOfRangeException(nameof(batch), batch, "batch must be ≥ 1");
        Root = w;
        Batch = batch;
        _scratch = w.Device.Pool.Rent<T>(batch, w.OutputSize);
    }

    /// <summary>W, with K = WᵀW.</summary>
    public ILinearOperator<T> Root { get; }
    public int Batch { get; }
    public Device Device => Root.Device;
    public int InputSize => Root.InputSize;
    public int OutputSize => Root.InputSize;

    /// <summary>result ← WᵀW·v + β·result.</summary>
    public void Apply(Tensor<T> v, Tensor<T> result, T beta)
    {
        Root.Apply(v, _scratch, T.Zero);
        Root.ApplyTranspose(_scratch, result, beta);
    }

    /// <summary>K is symmetric: the same as <see cref="Apply"/>.</summary>
    public void ApplyTranspose(Tensor<T> v, Tensor<T> result, T beta) => Apply(v, result, beta);

    /// <summary>W·v into the operator's scratch, [batch, W.OutputSize] (valid until the next call); for ||W v||².</summary>
    public Tensor<T> ApplyRoot(Tensor<T> v)
    {
        Root.Apply(v, _scratch, T.Zero);
        return _scratch;
    }

    /// <summary>Nothing to refresh: each application reads W's weights.</summary>
    public void Refresh() { }

    public void Dispose() => Device.Pool.Return(_scratch);
}
