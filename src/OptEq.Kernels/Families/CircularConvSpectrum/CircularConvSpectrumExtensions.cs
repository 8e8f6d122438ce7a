using System.Numerics;

namespace OptEq.Kernels;

/// <summary>
/// WᵀW for a stride-1 convolution W with circular padding, in the Fourier domain (docs/math.md §1.7): the 2-D DFT
/// block-diagonalises W, so at each frequency (u, v) WᵀW acts on the C input channels as the Hermitian positive
/// semidefinite K̂(u, v) = Ŵ(u, v)ᴴŴ(u, v), where Ŵ(u, v) is the C_out × C_in DFT of the kernel placed at its padding
/// offset. Real inputs have Hermitian-symmetric spectra, so only the H·(W/2 + 1) frequencies v ≤ W/2 are kept.
/// <para>
/// The spectrum tensor is [H·(W/2 + 1), 2C, 2C] (C = InChannels), frequency f = u·(W/2 + 1) + v: for each f the real
/// symmetric embedding [[Re K̂, −Im K̂], [Im K̂, Re K̂]] of K̂. It holds K̂'s real and imaginary parts, it multiplies a
/// sample's spectrum stored as [Re x̂ | Im x̂] as one real product, and its eigenvalues are K̂'s, each twice, so the
/// symmetric eigensolver gives ‖W‖₂² = max over f of λ_max directly.
/// </para>
/// Every entry checks that the geometry is circulant (stride 1, circular padding, output the size of the input) before
/// any kernel runs; on accelerators the calls only enqueue work.
/// </summary>
public static class CircularConvSpectrumExtensions
{
    /// <summary>Largest InChannels <see cref="CircularConvNorm{T}"/> accepts: the eigensolver takes matrices of up to 256 = 2·128.</summary>
    public const int MaxNormChannels = SymmetricEigenExtensions.MaxSymmetricEigenSize / 2;

    /// <summary>Frequencies kept: H·(W/2 + 1).</summary>
    public static int Frequencies(in Conv2dGeometry g) => g.Height * (g.Width / 2 + 1);

    /// <summary>The shape of the spectrum tensor: [H·(W/2 + 1), 2·InChannels, 2·InChannels].</summary>
    public static int[] SpectrumShape(in Conv2dGeometry g) => [Frequencies(g), 2 * g.InChannels, 2 * g.InChannels];

    /// <summary>
    /// Throws a <see cref="ShapeException"/> naming <paramref name="op"/> unless g is a stride-1 convolution with circular
    /// padding whose output has the input's size (padding = (k − 1)/2 along both axes): only then is it a circulant operator
    /// on the image, diagonalised by the DFT.
    /// </summary>
    public static void CheckCirculant(string op, in Conv2dGeometry g)
    {
        g.Validate(op);
        if (g.Stride != 1)
            throw new ShapeException($"{op}: stride {g.Stride} is not circulant; the Fourier-domain WᵀW needs a stride-1 convolution ({g})");
        if (g.PaddingMode != ConvPadding.Circular)
            throw new ShapeException($"{op}: zero padding is not circulant; the Fourier-domain WᵀW needs circular padding ({g})");
        if (g.OutHeight != g.Height || g.OutWidth != g.Width)
            throw new ShapeException($"{op}: the output {g.OutHeight}×{g.OutWidth} differs from the {g.Height}×{g.Width} input, so the convolution is not circulant; " +
                $"it needs an odd kernel with padding (k − 1)/2 ({g})");
    }

    /// <summary>
    /// spectrum ← for every kept frequency, the embedding of K̂(u, v) = Ŵ(u, v)ᴴŴ(u, v) (see the class summary).
    /// weight: [OutChannels, InChannels·k·k] (OIHW flattened), spectrum: contiguous <see cref="SpectrumShape"/>.
    /// </summary>
    public static void CircularGramSpectrum<T>(this Device device, in Conv2dGeometry g, Tensor<T> weight, Tensor<T> spectrum)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string op = "circular-gram-spectrum";
        device.CheckSameDevice(op, weight, spectrum);
        CheckCirculant(op, g);
        if (weight.Rank != 2 || weight.Shape[0] != g.OutChannels || weight.Shape[1] != g.WeightColumns)
            throw new ShapeException($"{op}: weight must be [{g.OutChannels}, {g.WeightColumns}] (out channels × in channels·{g.KernelHeight}·{g.KernelWidth}, OIHW flattened), got {ShapeUtil.Format(weight.Shape)}");
        Checks.Matrix(op, "weight", weight);
        Spectrum(op, "spectrum", spectrum, g);
        Checks.NoOverlap(op, "the weight", weight, spectrum);
        device.Family<ICircularConvSpectrumBackend>().Spectrum(g, MatrixView<T>.Of(weight), MatrixView<T>.Vector(spectrum));
    }

    /// <summary>
    /// result ← WᵀW·v + β·result, row by row, through the spectrum: forward real DFT of each channel, K̂·x̂ at each
    /// frequency, inverse DFT. v and result: [batch, InChannels·H·W]; spectrum from <see cref="CircularGramSpectrum{T}"/>.
    /// With β = 0 the result is not read.
    /// </summary>
    public static void CircularGramApply<T>(this Device device, in Conv2dGeometry g, Tensor<T> spectrum, Tensor<T> v, Tensor<T> result, T beta = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string op = "circular-gram-apply";
        device.CheckSameDevice(op, spectrum, v, result);
        CheckCirculant(op, g);
        Spectrum(op, "spectrum", spectrum, g);
        int batch = Conv2dExtensions.Activations(op, "v", v, g.InputSize, -1);
        Conv2dExtensions.Activations(op, "result", result, g.InputSize, batch);
        Checks.NoOverlap(op, "v", v, result);
        Checks.NoOverlap(op, "the spectrum", spectrum, result);
        if (batch == 0) return;
        device.Family<ICircularConvSpectrumBackend>().Apply(g, batch, MatrixView<T>.Vector(spectrum), MatrixView<T>.Of(v), MatrixView<T>.Of(result), beta);
    }

    /// <summary>
    /// norm[0] ← ‖W‖₂ = max over frequencies of σ_max(Ŵ(u, v)) = √(max_f λ_max(K̂_f)), from the spectrum: each frequency's
    /// embedding is solved by the batched symmetric eigensolver (a copy; the spectrum is kept). Exact up to the
    /// eigensolver's rounding, not an estimate. norm: a contiguous tensor of one element (it stays on the device).
    /// Costs about 24·(2C)³ per frequency: once per weight update, not per solver iteration.
    /// </summary>
    public static void CircularConvNorm<T>(this Device device, in Conv2dGeometry g, Tensor<T> spectrum, Tensor<T> norm)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string op = "circular-conv-norm";
        device.CheckSameDevice(op, spectrum, norm);
        CheckCirculant(op, g);
        Spectrum(op, "spectrum", spectrum, g);
        if (g.InChannels > MaxNormChannels)
            throw new ShapeException($"{op}: {g.InChannels} input channels exceed the supported {MaxNormChannels} (the eigensolver takes 2C × 2C matrices of at most {SymmetricEigenExtensions.MaxSymmetricEigenSize})");
        Checks.RowVector(op, "norm", norm, 1);
        Checks.NoOverlap(op, "the spectrum", spectrum, norm);
        int f = Frequencies(g), n = 2 * g.InChannels;
        var a = device.Pool.Rent<T>(f, n, n);
        var values = device.Pool.Rent<T>(f, n);
        var vectors = device.Pool.Rent<T>(f, n, n);
        device.Copy(spectrum, a);
        device.SymmetricEigen(a, values, vectors);
        device.Family<ICircularConvSpectrumBackend>().NormFromEigenvalues(f, n, MatrixView<T>.Vector(values), MatrixView<T>.Vector(norm));
        device.Pool.Return(vectors);
        device.Pool.Return(values);
        device.Pool.Return(a);
    }

    private static void Spectrum<T>(string op, string name, Tensor<T> t, in Conv2dGeometry g) where T : unmanaged
    {
        int f = Frequencies(g), n = 2 * g.InChannels;
        if (t.Rank != 3 || t.Shape[0] != f || t.Shape[1] != n || t.Shape[2] != n || !t.IsContiguous)
            throw new ShapeException($"{op}: {name} must be a contiguous [{f}, {n}, {n}] tensor (H·(W/2 + 1) frequencies × the 2C × 2C embedding of K̂), got {ShapeUtil.Format(t.Shape)}");
    }
}

/// <summary>What a backend implements for the Fourier-domain WᵀW; arguments are checked, the spectrum is contiguous, batch ≥ 1.</summary>
internal interface ICircularConvSpectrumBackend
{
    /// <summary>spectrum ← the embeddings of K̂ at the H·(W/2 + 1) kept frequencies.</summary>
    void Spectrum<T>(in Conv2dGeometry g, MatrixView<T> weight, MatrixView<T> spectrum) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>result ← WᵀW·v + β·result through the spectrum.</summary>
    void Apply<T>(in Conv2dGeometry g, int batch, MatrixView<T> spectrum, MatrixView<T> v, MatrixView<T> result, T beta) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>norm[0] ← √(max over f of values[f, n − 1]) (values: [frequencies, n], ascending per row).</summary>
    void NormFromEigenvalues<T>(int frequencies, int n, MatrixView<T> values, MatrixView<T> norm) where T : unmanaged, IFloatingPointIeee754<T>;
}
