using System.Numerics;
using NUnit.Framework;
using OptEq.Kernels;
using OptEq.Kernels.Reference;
using OptEq.Solvers.Operators;
using static OptEq.Tests.Kernels.KernelAssert;

namespace OptEq.Tests.Kernels;

/// <summary>
/// The Fourier-domain WᵀW family on every backend: the spectrum, the application and the exact norm against the float64
/// references (plain DFT sums over all H·W frequencies, no half-spectrum symmetry), the application against two
/// convolutions (<see cref="GramOperator{T}"/> over <see cref="Conv2dOperator{T}"/>) on the same device, on awkward
/// shapes: 1×1 images, odd H ≠ W, one channel, prime channel counts, k = 1, 3, 5.
/// </summary>
[TestFixtureSource(typeof(KernelBackends), nameof(KernelBackends.All))]
public sealed class CircularConvSpectrumKernelTests(string backend) : KernelTestsBase(backend)
{
    /// <summary>Circulant cases in <see cref="ConvCase"/>'s notation (stride 1, circular padding (k − 1)/2).</summary>
    internal static readonly string[] Cases =
    [
        "2:1×1×1→1:1×1/s1/p0c",
        "3:2×1×1→3:3×3/s1/p1c",  // a 1×1 image under a 3×3 kernel: every tap wraps onto the one pixel
        "2:3×5×7→5:3×3/s1/p1c",  // odd H ≠ W, prime channel counts
        "1:1×6×5→2:3×3/s1/p1c",  // one input channel, even H
        "2:5×7×6→3:5×5/s1/p2c",  // k = 5, even W (the v = W/2 column is its own mirror)
        "2:7×2×3→2:1×1/s1/p0c",  // 7 channels, a 2×3 image, k = 1
        "1:2×4×4→3:3×3/s1/p1c",
    ];

    private static IEnumerable<string> AllCases => Cases;

    [Test]
    public void SpectrumMatchesReference([ValueSource(nameof(AllCases))] string shape, [Values] Precision precision)
        => Run(precision, () => CheckSpectrum<float>(shape), () => CheckSpectrum<double>(shape));

    [Test]
    public void ApplyMatchesReference([ValueSource(nameof(AllCases))] string shape, [Values] Precision precision)
        => Run(precision, () => CheckApply<float>(shape, beta: -0.5, pad: 2), () => CheckApply<double>(shape, beta: -0.5, pad: 2));

    [Test]
    public void ApplyWithZeroBetaDoesNotReadTheResult([Values] Precision precision)
        => Run(precision, () => CheckApply<float>("2:3×5×7→5:3×3/s1/p1c", beta: 0, pad: 1, nanInResult: true),
                          () => CheckApply<double>("2:5×7×6→3:5×5/s1/p2c", beta: 0, pad: 0, nanInResult: true));

    [Test]
    public void ApplyMatchesTwoConvolutions([ValueSource(nameof(AllCases))] string shape)
    {
        var (g, batch) = ConvCase.Parse(shape);
        var w = Random(g.OutChannels * g.WeightColumns, 41);
        var x = Random(batch * g.InputSize, 42);
        using var W = Device.FromArray(w, g.OutChannels, g.WeightColumns);
        using var X = Device.FromArray(x, batch, g.InputSize);
        using var viaConvs = Device.Allocate<double>(batch, g.InputSize);
        using var viaFourier = Device.Allocate<double>(batch, g.InputSize);
        using (var convs = new GramOperator<double>(new Conv2dOperator<double>(g, W), batch)) convs.Apply(X, viaConvs, 0);
        using (var fourier = new FourierGramOperator<double>(new Conv2dOperator<double>(g, W), batch)) fourier.Apply(X, viaFourier, 0);
        var expected = viaConvs.ToArray();
        Close(expected, viaFourier.ToArray(), Tolerance<double>(g.Height * g.Width + g.WeightColumns), ApplyScale(g, w, x), $"Fourier WᵀW against conv then transposed conv, {shape}");
    }

    [Test]
    public void NormMatchesReference([ValueSource(nameof(AllCases))] string shape, [Values] Precision precision)
        => Run(precision, () => CheckNorm<float>(shape), () => CheckNorm<double>(shape));

    // ---- checks ---------------------------------------------------------------------------------------

    private void CheckSpectrum<T>(string shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (g, _) = ConvCase.Parse(shape);
        var w = Random(g.OutChannels * g.WeightColumns, 1);
        using var W = new Strided<T>(Device, w, 1, g.OutChannels, g.WeightColumns);
        using var S = Device.Allocate<T>(CircularConvSpectrumExtensions.SpectrumShape(g));
        Device.CircularGramSpectrum(g, W.View, S);
        var expected = ReferenceKernels.CircularGramSpectrum(g, w);
        // Every entry of K̂ at every frequency is bounded by Σ_o (Σ_taps |w[o, a]|)(Σ_taps |w[o, d]|) ≤ the largest such sum.
        double bound = GramBound(g, w);
        Close(expected, S.ToArray(), Tolerance<T>(g.OutChannels * g.KernelHeight * g.KernelWidth), _ => bound, $"circular-gram-spectrum<{typeof(T).Name}> {shape}");
    }

    private void CheckApply<T>(string shape, double beta, int pad, bool nanInResult = false) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (g, batch) = ConvCase.Parse(shape);
        var w = Random(g.OutChannels * g.WeightColumns, 2);
        var x = Random(batch * g.InputSize, 3);
        var y0 = nanInResult ? Enumerable.Repeat(double.NaN, batch * g.InputSize).ToArray() : Random(batch * g.InputSize, 4);
        using var W = Device.FromArray(To<T>(w), g.OutChannels, g.WeightColumns);
        using var S = Device.Allocate<T>(CircularConvSpectrumExtensions.SpectrumShape(g));
        using var X = new Strided<T>(Device, x, pad, batch, g.InputSize);
        using var Y = new Strided<T>(Device, y0, pad, batch, g.InputSize);
        Device.CircularGramSpectrum(g, W, S);
        Device.CircularGramApply(g, S, X.View, Y.View, T.CreateChecked(beta));
        var expected = ReferenceKernels.CircularGram(g, batch, w, x, beta, y0);
        var scale = ApplyScale(g, w, x);
        Close(expected, Y.Values, Tolerance<T>(g.Height * g.Width + g.InChannels), i => scale(i) + (nanInResult ? 0 : Math.Abs(beta * y0[i])),
            $"circular-gram-apply<{typeof(T).Name}> {shape}");
        Y.AssertPaddingUntouched("circular-gram-apply");
    }

    private void CheckNorm<T>(string shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (g, _) = ConvCase.Parse(shape);
        var w = Random(g.OutChannels * g.WeightColumns, 5);
        using var W = Device.FromArray(To<T>(w), g.OutChannels, g.WeightColumns);
        using var S = Device.Allocate<T>(CircularConvSpectrumExtensions.SpectrumShape(g));
        using var norm = Device.Allocate<T>(1);
        Device.CircularGramSpectrum(g, W, S);
        Device.CircularConvNorm(g, S, norm);
        double expected = ReferenceKernels.CircularConvNorm(g, w), actual = double.CreateChecked(norm.ToArray()[0]);
        // λ_max moves by at most n·(the largest error of an entry of the spectrum), and Jacobi in T adds about n·u·λ_max.
        int n = 2 * g.InChannels;
        double lambdaError = n * Tolerance<T>(g.OutChannels * g.KernelHeight * g.KernelWidth) * GramBound(g, w) + 16 * n * Unit<T>() * expected * expected;
        Assert.That(actual * actual, Is.EqualTo(expected * expected).Within(lambdaError), $"circular-conv-norm<{typeof(T).Name}> {shape}: ||W||₂ = {actual:R}, expected {expected:R}");
    }

    // ---- helpers --------------------------------------------------------------------------------------

    private static double Tolerance<T>(int terms) => 16 * Unit<T>() * (Math.Sqrt(terms) + 2);

    /// <summary>max over (a, d) of Σ_o (Σ_taps |w[o, a]|)(Σ_taps |w[o, d]|): bounds every entry of every K̂(u, v).</summary>
    private static double GramBound(Conv2dGeometry g, double[] w)
    {
        int taps = g.KernelHeight * g.KernelWidth;
        var sums = new double[g.OutChannels, g.InChannels];
        for (int o = 0; o < g.OutChannels; o++)
            for (int c = 0; c < g.InChannels; c++)
                for (int t = 0; t < taps; t++) sums[o, c] += Math.Abs(w[o * g.WeightColumns + c * taps + t]);
        double best = 0;
        for (int a = 0; a < g.InChannels; a++)
            for (int d = 0; d < g.InChannels; d++)
            {
                double s = 0;
                for (int o = 0; o < g.OutChannels; o++) s += sums[o, a] * sums[o, d];
                best = Math.Max(best, s);
            }
        return best;
    }

    /// <summary>
    /// The scale of the rounding error of element i of a Fourier-domain application: ||K||₂·||x_b||₂ for its sample b
    /// (||K||₂ = ||W||₂², from the reference). The DFTs mix every pixel of a channel and the products every channel, so
    /// the error is bounded norm-wise per sample, not by the element's own magnitude (which may be near zero).
    /// </summary>
    internal static Func<int, double> ApplyScale(Conv2dGeometry g, double[] w, double[] x)
    {
        double k = Math.Pow(ReferenceKernels.CircularConvNorm(g, w), 2);
        var rows = Enumerable.Range(0, x.Length / g.InputSize)
            .Select(b => k * Math.Sqrt(x.Skip(b * g.InputSize).Take(g.InputSize).Sum(t => t * t))).ToArray();
        return i => rows[i / g.InputSize];
    }
}
