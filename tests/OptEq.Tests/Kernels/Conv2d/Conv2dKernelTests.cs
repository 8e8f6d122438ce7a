using System.Numerics;
using NUnit.Framework;
using OptEq.Kernels;
using OptEq.Kernels.Reference;
using static OptEq.Tests.Kernels.KernelAssert;

namespace OptEq.Tests.Kernels;

/// <summary>
/// The convolution family on every backend: each entry against the float64 reference on awkward shapes (with β, bias and
/// row-strided views), each backward pass against finite differences of the device's own forward pass in float64, and
/// the adjoint identity ⟨conv(x), y⟩ = ⟨x, convᵀ(y)⟩.
/// </summary>
[TestFixtureSource(typeof(KernelBackends), nameof(KernelBackends.All))]
public sealed class Conv2dKernelTests(string backend) : KernelTestsBase(backend)
{
    // Tolerance: |y − y_ref| ≤ 16·u·(√terms + 2)·(the same sum over absolute values), as for the GEMM: each result is a
    // sum of `terms` products, whatever the order the backend adds them in.
    private static double Tolerance<T>(int terms) => 16 * Unit<T>() * (Math.Sqrt(terms) + 2);

    private static IEnumerable<string> Cases => ConvCase.Awkward;

    [Test]
    public void ForwardMatchesReference([ValueSource(nameof(Cases))] string shape, [Values] Precision precision)
        => Run(precision, () => CheckForward<float>(shape, beta: -0.5, withBias: true, pad: 2),
                          () => CheckForward<double>(shape, beta: -0.5, withBias: true, pad: 2));

    [Test]
    public void ForwardWithoutBiasAndZeroBetaDoesNotReadTheOutput([Values] Precision precision)
        => Run(precision, () => CheckForward<float>("3:3×5×7→5:3×3/s1/p1c", beta: 0, withBias: false, pad: 0, nanInOutput: true),
                          () => CheckForward<double>("2:5×7×5→3:3×3/s2/p1", beta: 0, withBias: false, pad: 1, nanInOutput: true));

    /// <summary>
    /// The one-input-channel forward at stride ≥ 2 (natively <see cref="OptEq.Kernels.Native.OneChannelConv"/>, which masks
    /// the last vector of each output plane) with β = 0 and NaN in the output, with and without bias.
    /// </summary>
    [Test]
    public void OneInputChannelForwardWithZeroBetaDoesNotReadTheOutput(
        [Values("3:1×13×13→5:3×3/s2/p2c", "2:1×5×7→17:2×3/s2/p0", "2:1×5×7→5:3×3/s3/p1c")] string shape, [Values] bool withBias)
        => CheckForward<float>(shape, beta: 0, withBias: withBias, pad: 1, nanInOutput: true);

    [Test]
    public void BackwardInputMatchesReference([ValueSource(nameof(Cases))] string shape, [Values] Precision precision)
        => Run(precision, () => CheckBackwardInput<float>(shape, beta: 0.75, pad: 2, transposedName: false),
                          () => CheckBackwardInput<double>(shape, beta: 0.75, pad: 2, transposedName: false));

    [Test]
    public void ConvTransposeIsTheBackwardInputPassAndDoesNotReadItsOutputWhenBetaIsZero([Values] Precision precision)
        => Run(precision, () => CheckBackwardInput<float>("3:5×7×5→3:3×3/s2/p1", beta: 0, pad: 1, transposedName: true, nanInOutput: true),
                          () => CheckBackwardInput<double>("2:3×4×5→2:2×3/s2/p1c", beta: 0, pad: 0, transposedName: true, nanInOutput: true));

    [Test]
    public void BackwardWeightMatchesReference([ValueSource(nameof(Cases))] string shape, [Values] Precision precision)
        => Run(precision, () => CheckBackwardWeight<float>(shape, beta: -1, pad: 2),
                          () => CheckBackwardWeight<double>(shape, beta: -1, pad: 2));

    [Test]
    public void BackwardWeightWithZeroBetaDoesNotReadTheGradient([Values] Precision precision)
        => Run(precision, () => CheckBackwardWeight<float>("3:3×5×7→5:3×3/s1/p1c", beta: 0, pad: 0, nanInOutput: true),
                          () => CheckBackwardWeight<double>("3:7×4×4→5:1×1/s1/p0", beta: 0, pad: 1, nanInOutput: true));

    /// <summary>
    /// 3×3 stride-1 shapes large enough for the native float32 Winograd path's branches (the awkward shapes reach only a
    /// few): 24-wide product blocks, tile rows wider than one vector, chunks of tile rows that cross samples (5 × 32
    /// channels), odd output sizes, padding 0, 1, 2 and circular, a 1×1 image. Native backend only: the ILGPU kernels
    /// have no such path, and their simulator is slow at these sizes.
    /// </summary>
    private static readonly string[] WinogradCases =
    [
        "5:32×14×14→32:3×3/s1/p1",
        "3:6×17×19→8:3×3/s1/p1",
        "3:5×10×11→6:3×3/s1/p2",
        "3:4×9×8→5:3×3/s1/p0",
        "3:7×13×12→12:3×3/s1/p1c",
        "2:9×30×20→7:3×3/s1/p1c",
        "4:4×1×1→4:3×3/s1/p1",
        "2:5×6×7→53:3×3/s1/p1",
    ];

    [Test]
    public void WinogradShapesMatchReferenceOnTheNativeBackend([ValueSource(nameof(WinogradCases))] string shape)
    {
        if (Backend != KernelBackends.Native) Assert.Ignore("the Winograd path is the native backend's");
        var (g, _) = ConvCase.Parse(shape);
        Assume.That(System.Runtime.Intrinsics.X86.Fma.IsSupported, "Winograd needs AVX2 + FMA");
        Assert.That(OptEq.Kernels.Native.WinogradConv.Applies(g), $"{shape} takes the Winograd path");
        CheckForward<float>(shape, beta: -0.5, withBias: true, pad: 2);
        CheckForward<float>(shape, beta: 0, withBias: false, pad: 0, nanInOutput: true);
        CheckBackwardInput<float>(shape, beta: 0.75, pad: 2, transposedName: false);
        CheckBackwardWeight<float>(shape, beta: -1, pad: 2);
        CheckBackwardWeight<float>(shape, beta: 0, pad: 0, nanInOutput: true);
    }

    /// <summary>
    /// The awkward shapes again with Winograd off (NativeConvolution.Algorithm = Direct): where Auto prefers another
    /// algorithm (the grouped im2col input gradient at stride 2, Winograd at 3×3 stride 1), the direct kernels stay tested.
    /// </summary>
    [Test]
    public void DirectAlgorithmMatchesReferenceOnTheNativeBackend([ValueSource(nameof(Cases))] string shape)
    {
        if (Backend != KernelBackends.Native) Assert.Ignore("the algorithm switch is the native backend's");
        var previous = OptEq.Kernels.Native.NativeConvolution.Algorithm;
        OptEq.Kernels.Native.NativeConvolution.Algorithm = OptEq.Kernels.Native.NativeConvAlgorithm.Direct;
        try
        {
            CheckForward<float>(shape, beta: -0.5, withBias: true, pad: 2);
            CheckBackwardInput<float>(shape, beta: 0.75, pad: 2, transposedName: false);
            CheckBackwardWeight<float>(shape, beta: -1, pad: 2);
        }
        finally { OptEq.Kernels.Native.NativeConvolution.Algorithm = previous; }
    }

    [Test]
    public void BackwardBiasMatchesReference([Values("1:1×1×1→1:1×1/s1/p0", "3:5×7×5→3:3×3/s2/p1", "3:2×6×5→3:5×5/s2/p2c")] string shape,
        [Values] Precision precision, [Values(0.0, 0.5)] double beta)
        => Run(precision, () => CheckBackwardBias<float>(shape, beta), () => CheckBackwardBias<double>(shape, beta));

    /// <summary>With no samples the weight and bias gradients are β times what they held (a batch of 0 sums nothing).</summary>
    [Test]
    public void WeightAndBiasGradientsOfAnEmptyBatchOnlyScaleByBeta()
    {
        var g = new Conv2dGeometry(3, 5, 5, 4, 3, 3, 1, 1, ConvPadding.Zero);
        using var X = Device.Allocate<float>(0, g.InputSize);
        using var GY = Device.Allocate<float>(0, g.OutputSize);
        var w = Enumerable.Range(0, g.OutChannels * g.WeightColumns).Select(i => (float)(i % 7 - 3)).ToArray();
        using var DW = Device.FromArray(w, g.OutChannels, g.WeightColumns);
        using var DB = Device.FromArray(new float[] { 1, -2, 3, -4 }, g.OutChannels);
        Device.Conv2dBackwardWeight(g, X, GY, DW, 0.5f);
        Device.Conv2dBackwardBias(g, GY, DB, 0.5f);
        Assert.That(DW.ToArray(), Is.EqualTo(w.Select(v => 0.5f * v).ToArray()));
        Assert.That(DB.ToArray(), Is.EqualTo(new float[] { 0.5f, -1, 1.5f, -2 }));
    }

    /// <summary>
    /// f(x, W, b) = ⟨gradOutput, conv(x, W) + b⟩ in float64 on the device: each backward pass against central differences of
    /// f along random directions and single coordinates.
    /// </summary>
    [Test]
    public void BackwardPassesMatchFiniteDifferencesOfTheForward([Values("3:3×5×7→5:3×3/s1/p1c", "3:5×7×5→3:3×3/s2/p1", "2:3×4×5→2:2×3/s2/p1c", "1:7×6×5→3:5×5/s1/p2")] string shape)
    {
        var (g, batch) = ConvCase.Parse(shape);
        var x = Random(batch * g.InputSize, 11);
        var w = Random(g.OutChannels * g.WeightColumns, 12);
        var bias = Random(g.OutChannels, 13);
        var gy = Random(batch * g.OutputSize, 14);
        using var X = Device.FromArray(x, batch, g.InputSize);
        using var W = Device.FromArray(w, g.OutChannels, g.WeightColumns);
        using var B = Device.FromArray(bias, g.OutChannels);
        using var GY = Device.FromArray(gy, batch, g.OutputSize);
        using var Y = Device.Allocate<double>(batch, g.OutputSize);
        using var DX = Device.Allocate<double>(batch, g.InputSize);
        using var DW = Device.Allocate<double>(g.OutChannels, g.WeightColumns);
        using var DB = Device.Allocate<double>(g.OutChannels);
        Device.Conv2dBackwardInput(g, GY, W, DX);
        Device.Conv2dBackwardWeight(g, X, GY, DW);
        Device.Conv2dBackwardBias(g, GY, DB);

        double F(double[] xv, double[] wv, double[] bv)
        {
            X.CopyFrom(xv); W.CopyFrom(wv); B.CopyFrom(bv);
            Device.Conv2d(g, X, W, B, Y);
            return Dot(gy, Y.ToArray());
        }
        CheckDirections("input", x, DX.ToArray(), v => F(v, w, bias));
        CheckDirections("weight", w, DW.ToArray(), v => F(x, v, bias));
        CheckDirections("bias", bias, DB.ToArray(), v => F(x, w, v));
    }

    [Test]
    public void ConvolutionAndTransposedConvolutionAreAdjoint([ValueSource(nameof(Cases))] string shape)
    {
        var (g, batch) = ConvCase.Parse(shape);
        var x = Random(batch * g.InputSize, 21);
        var w = Random(g.OutChannels * g.WeightColumns, 22);
        var y = Random(batch * g.OutputSize, 23);
        using var X = Device.FromArray(x, batch, g.InputSize);
        using var W = Device.FromArray(w, g.OutChannels, g.WeightColumns);
        using var Yin = Device.FromArray(y, batch, g.OutputSize);
        using var CX = Device.Allocate<double>(batch, g.OutputSize);
        using var TY = Device.Allocate<double>(batch, g.InputSize);
        Device.Conv2d(g, X, W, null, CX);
        Device.ConvTranspose2d(g, Yin, W, TY);
        double left = Dot(CX.ToArray(), y), right = Dot(x, TY.ToArray());
        Assert.That(left, Is.EqualTo(right).Within(1e-12 * (1 + Math.Abs(left))), $"⟨conv(x), y⟩ against ⟨x, convᵀ(y)⟩ for {g}");
    }

    // ---- checks ---------------------------------------------------------------------------------------

    private void CheckForward<T>(string shape, double beta, bool withBias, int pad, bool nanInOutput = false) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (g, batch) = ConvCase.Parse(shape);
        var x = Random(batch * g.InputSize, 1);
        var w = Random(g.OutChannels * g.WeightColumns, 2);
        var bias = withBias ? Random(g.OutChannels, 3) : null;
        var y0 = nanInOutput ? Enumerable.Repeat(double.NaN, batch * g.OutputSize).ToArray() : Random(batch * g.OutputSize, 4);
        using var X = new Strided<T>(Device, x, pad, batch, g.InputSize);
        using var W = Device.FromArray(To<T>(w), g.OutChannels, g.WeightColumns);
        using var B = bias is null ? null : Device.FromArray(To<T>(bias), g.OutChannels);
        using var Y = new Strided<T>(Device, y0, pad, batch, g.OutputSize);
        Device.Conv2d(g, X.View, W, B, Y.View, T.CreateChecked(beta));

        var expected = ReferenceKernels.Conv2d(g, batch, x, w, bias, beta, y0);
        var scale = ReferenceKernels.Conv2d(g, batch, Abs(x), Abs(w), bias is null ? null : Abs(bias), Math.Abs(beta), nanInOutput ? null : Abs(y0));
        Close(expected, Y.Values, Tolerance<T>(g.WeightColumns + 2), i => scale[i], $"conv2d<{typeof(T).Name}> {shape}");
        Y.AssertPaddingUntouched("conv2d");
    }

    private void CheckBackwardInput<T>(string shape, double beta, int pad, bool transposedName, bool nanInOutput = false) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (g, batch) = ConvCase.Parse(shape);
        var gy = Random(batch * g.OutputSize, 5);
        var w = Random(g.OutChannels * g.WeightColumns, 6);
        var dx0 = nanInOutput ? Enumerable.Repeat(double.NaN, batch * g.InputSize).ToArray() : Random(batch * g.InputSize, 7);
        using var GY = new Strided<T>(Device, gy, pad, batch, g.OutputSize);
        using var W = Device.FromArray(To<T>(w), g.OutChannels, g.WeightColumns);
        using var DX = new Strided<T>(Device, dx0, pad, batch, g.InputSize);
        if (transposedName) Device.ConvTranspose2d(g, GY.View, W, DX.View, T.CreateChecked(beta));
        else Device.Conv2dBackwardInput(g, GY.View, W, DX.View, T.CreateChecked(beta));

        var expected = ReferenceKernels.Conv2dBackwardInput(g, batch, gy, w, beta, dx0);
        var scale = ReferenceKernels.Conv2dBackwardInput(g, batch, Abs(gy), Abs(w), Math.Abs(beta), nanInOutput ? null : Abs(dx0));
        // Circular padding with a kernel wider than the image sends several taps to one pixel: bound the terms generously.
        int terms = g.OutChannels * g.KernelHeight * g.KernelWidth * 4;
        Close(expected, DX.Values, Tolerance<T>(terms), i => scale[i], $"{(transposedName ? "conv-transpose2d" : "conv2d-backward-input")}<{typeof(T).Name}> {shape}");
        DX.AssertPaddingUntouched("conv2d-backward-input");
    }

    private void CheckBackwardWeight<T>(string shape, double beta, int pad, bool nanInOutput = false) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (g, batch) = ConvCase.Parse(shape);
        var x = Random(batch * g.InputSize, 8);
        var gy = Random(batch * g.OutputSize, 9);
        var dw0 = nanInOutput ? Enumerable.Repeat(double.NaN, g.OutChannels * g.WeightColumns).ToArray() : Random(g.OutChannels * g.WeightColumns, 10);
        using var X = new Strided<T>(Device, x, pad, batch, g.InputSize);
        using var GY = new Strided<T>(Device, gy, pad, batch, g.OutputSize);
        using var DW = new Strided<T>(Device, dw0, pad, g.OutChannels, g.WeightColumns);
        Device.Conv2dBackwardWeight(g, X.View, GY.View, DW.View, T.CreateChecked(beta));

        var expected = ReferenceKernels.Conv2dBackwardWeight(g, batch, x, gy, beta, dw0);
        var scale = ReferenceKernels.Conv2dBackwardWeight(g, batch, Abs(x), Abs(gy), Math.Abs(beta), nanInOutput ? null : Abs(dw0));
        Close(expected, DW.Values, Tolerance<T>(batch * g.OutPixels + 2), i => scale[i], $"conv2d-backward-weight<{typeof(T).Name}> {shape}");
        DW.AssertPaddingUntouched("conv2d-backward-weight");
    }

    private void CheckBackwardBias<T>(string shape, double beta) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (g, batch) = ConvCase.Parse(shape);
        var gy = Random(batch * g.OutputSize, 15);
        var db0 = Random(g.OutChannels, 16);
        using var GY = new Strided<T>(Device, gy, 1, batch, g.OutputSize);
        using var DB = Device.FromArray(To<T>(db0), g.OutChannels);
        Device.Conv2dBackwardBias(g, GY.View, DB, T.CreateChecked(beta));
        var expected = ReferenceKernels.Conv2dBackwardBias(g, batch, gy, beta, db0);
        var scale = ReferenceKernels.Conv2dBackwardBias(g, batch, Abs(gy), Math.Abs(beta), Abs(db0));
        Close(expected, DB.ToArray(), Tolerance<T>(batch * g.OutPixels + 1), i => scale[i], $"conv2d-backward-bias<{typeof(T).Name}> {shape}");
    }

    // ---- helpers --------------------------------------------------------------------------------------

    /// <summary>
    /// The gradient against central differences of f (which is linear in each argument, so the difference is exact up to
    /// rounding): along two random directions and along a few coordinates.
    /// </summary>
    internal static void CheckDirections(string what, double[] point, double[] gradient, Func<double[], double> f)
    {
        const double eps = 1e-3;
        var directions = new List<double[]> { Random(point.Length, 31), Random(point.Length, 32) };
        foreach (int k in new[] { 0, point.Length / 3, point.Length / 2, point.Length - 1 }.Distinct())
        {
            var e = new double[point.Length];
            e[k] = 1;
            directions.Add(e);
        }
        foreach (var v in directions)
        {
            var plus = point.Select((p, i) => p + eps * v[i]).ToArray();
            var minus = point.Select((p, i) => p - eps * v[i]).ToArray();
            double numeric = (f(plus) - f(minus)) / (2 * eps), analytic = Dot(gradient, v);
            Assert.That(analytic, Is.EqualTo(numeric).Within(1e-8 * (1 + Math.Abs(numeric))), $"gradient with respect to the {what}");
        }
    }

    internal static double Dot(double[] a, double[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }

    internal static double[] Abs(double[] x) => x.Select(Math.Abs).ToArray();
}
