namespace OptEq.Solvers.Operators;

/// <summary>
/// K = WᵀW for a stride-1 convolution W with circular padding, applied in the Fourier domain (docs/math.md §1.7): the
/// spectrum (K̂ at every kept frequency) is computed by <see cref="Refresh"/>, after which each application costs a
/// forward DFT, one C × C complex product per frequency and an inverse DFT instead of two convolutions. Symmetric
/// positive semidefinite, as <see cref="GramOperator{T}"/>, and interchangeable with it.
/// <para>
/// The spectrum is a snapshot of W: whoever rewrites W's weight (a layer rescaling it to ||W||₂ ≤ γ) calls
/// <see cref="Refresh"/> once afterwards, before the next solve, not inside a solve (a refresh costs about one
/// application). <see cref="ApplyRoot"/> reads the weight directly, so it is always current.
/// </para>
/// Holds the spectrum and one [batch, W.OutputSize] scratch for <see cref="ApplyRoot"/>, both rented from the device pool
/// (an operator built per forward pass reuses them); applications allocate nothing.
/// </summary>
public sealed class FourierGramOperator<T> : IGramOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Tensor<T> _scratch;

    /// <summary>Checks that W is circulant (stride 1, circular padding, output the input's size) and computes the spectrum once.</summary>
    public FourierGramOperator(Conv2dOperator<T> w, int batch)
    {
        ArgumentNullException.ThrowIfNull(w);
        if (batch < 1) throw new ArgumentOutOfRangeException(nameof(batch), batch, "batch must be ≥ 1");
        CircularConvSpectrumExtensions.CheckCirculant("fourier gram operator", w.Geometry);
        Root = w;
        Batch = batch;
        Spectrum = w.Device.Pool.Rent<T>(CircularConvSpectrumExtensions.SpectrumShape(w.Geometry));
        _scratch = w.Device.Pool.Rent<T>(batch, w.OutputSize);
        Refresh();
    }

    /// <summary>W, with K = WᵀW.</summary>
    public Conv2dOperator<T> Root { get; }
    ILinearOperator<T> IGramOperator<T>.Root => Root;
    public Conv2dGeometry Geometry => Root.Geometry;
    public int Batch { get; }
    public Device Device => Root.Device;
    public int InputSize => Root.InputSize;
    public int OutputSize => Root.InputSize;

    /// <summary>K̂ at the H·(W/2 + 1) kept frequencies, as of the last <see cref="Refresh"/> ([F, 2C, 2C], see <see cref="CircularConvSpectrumExtensions"/>).</summary>
    public Tensor<T> Spectrum { get; }

    /// <summary>Recomputes the spectrum from W's weight as it is now: once after each rewrite of the weight.</summary>
    public void Refresh() => Device.CircularGramSpectrum(Geometry, Root.Weight, Spectrum);

    /// <summary>result ← WᵀW·v + β·result, with W as of the last <see cref="Refresh"/>.</summary>
    public void Apply(Tensor<T> v, Tensor<T> result, T beta) => Device.CircularGramApply(Geometry, Spectrum, v, result, beta);

    /// <summary>K is symmetric: the same as <see cref="Apply"/>.</summary>
    public void ApplyTranspose(Tensor<T> v, Tensor<T> result, T beta) => Apply(v, result, beta);

    /// <summary>W·v (the plain convolution) into the operator's scratch, [batch, W.OutputSize] (valid until the next call); for ||W v||².</summary>
    public Tensor<T> ApplyRoot(Tensor<T> v)
    {
        Root.Apply(v, _scratch, T.Zero);
        return _scratch;
    }

    /// <summary>norm[0] ← ||W||₂ exactly (the largest singular value over frequencies, from the spectrum); stays on the device.</summary>
    public void OperatorNorm(Tensor<T> norm) => Device.CircularConvNorm(Geometry, Spectrum, norm);

    public void Dispose()
    {
        Device.Pool.Return(_scratch);
        Device.Pool.Return(Spectrum);
    }
}
