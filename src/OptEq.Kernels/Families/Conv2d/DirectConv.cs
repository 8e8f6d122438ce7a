using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace OptEq.Kernels.Native;

/// <summary>Which algorithms the native backend may use for a convolution (for benchmarks that compare them; results agree either way).</summary>
public enum NativeConvAlgorithm
{
    /// <summary>
    /// The fastest that applies: Winograd F(2×2, 3×3) for 3×3 stride-1 float32, the direct kernel for other float32
    /// stride-1, the channels-last kernels (<see cref="ChannelsLastConv"/>) for the float32 stride-2 forward and input
    /// gradient (<see cref="OneChannelConv"/> for the forward with one input channel, at stride 2 or more), else im2col.
    /// </summary>
    Auto,
    /// <summary>As Auto without Winograd and channels-last: the direct (stride 1) and polyphase (stride 2) kernels where they apply, else im2col.</summary>
    Direct,
    /// <summary>Always the column matrix and the packed GEMM.</summary>
    Im2Col,
}

/// <summary>How the native backend convolves: a switch for benchmarks that compare its algorithms.</summary>
public static class NativeConvolution
{
    /// <summary>The algorithms allowed (<c>opteq bench conv --algorithm</c>); Auto unless a benchmark narrows it.</summary>
    public static NativeConvAlgorithm Algorithm { get; set; }

    /// <summary>
    /// Whether the native backend computes this float32 convolution and its input gradient with Winograd F(2×2, 3×3) on
    /// this CPU (<see cref="WinogradConv"/>), as the choice of how to apply WᵀW needs to know.
    /// </summary>
    public static bool UsesWinograd(in Conv2dGeometry g) => WinogradConv.Applies(g) && DirectConv.Adjoint(g) is { } adjoint && WinogradConv.Applies(adjoint);

    /// <summary>
    /// True: every convolution goes through the column matrix and the packed GEMM (im2col), even where the direct
    /// kernels (<see cref="DirectConv"/> and <see cref="WinogradConv"/> at stride 1, <see cref="PolyphaseConv"/> and its
    /// gradients at stride 2) would run. Shorthand for <see cref="Algorithm"/> = Im2Col.
    /// </summary>
    public static bool ColumnsOnly
    {
        get => Algorithm == NativeConvAlgorithm.Im2Col;
        set => Algorithm = value ? NativeConvAlgorithm.Im2Col : NativeConvAlgorithm.Auto;
    }
}

/// <summary>
/// Direct float32 convolution at stride 1 with AVX2 + FMA, without a column matrix. Each sample is first copied into a
/// padded image (zero or wrapped border, Hp × Wp per channel); the output is computed in the same padded row layout
/// (row stride Wp, the last Wp − OutWidth columns of each row discarded), where every kernel tap (i, j) is one constant
/// shift i·Wp + j of the flattened plane: output[o, q] = Σ_c Σ_taps w[o, c, tap]·padded[c, q + shift(tap)]. The register
/// block is 4 output channels × 16 consecutive positions (8 accumulators), so each tap costs 2 loads, 4 broadcasts and
/// 8 FMAs, as in the GEMM micro-kernel, and the column matrix is never written or packed.
/// </summary>
internal static unsafe class DirectConv
{
    private const int ChannelBlock = 4, Lanes = 16;

    /// <summary>
    /// float32 at stride 1 with at least one whole block of output channels, on a CPU with 256-bit vectors and FMA, not
    /// narrowed below 256 bits, unless <see cref="NativeConvolution.ColumnsOnly"/>. (With fewer than 4 output channels, as
    /// in the adjoint of a one-channel input convolution, the one-channel block loses to im2col + GEMM: measured.)
    /// </summary>
    public static bool Applies(in Conv2dGeometry g) =>
        g.Stride == 1 && g.OutChannels >= ChannelBlock && Fma.IsSupported && SimdWidth.Current >= VectorWidth.Bits256 && !NativeConvolution.ColumnsOnly;

    /// <summary>The sizes of one sample's workspace: the padded image, then the output in padded rows.</summary>
    public readonly struct Plan
    {
        public Plan(in Conv2dGeometry g)
        {
            PaddedHeight = g.Height + 2 * g.Padding;
            PaddedWidth = g.Width + 2 * g.Padding;
            Plane = PaddedHeight * PaddedWidth;
            Positions = (g.OutHeight * PaddedWidth + Lanes - 1) / Lanes * Lanes;
            // The last position block reads up to Positions − OutHeight·Wp + KernelWidth − 1 elements past the last plane.
            PaddedLength = g.InChannels * Plane + Positions - g.OutHeight * PaddedWidth + g.KernelWidth + Lanes;
            OutputLength = g.OutChannels * Positions;
        }

        public int PaddedHeight { get; }
        public int PaddedWidth { get; }
        public int Plane { get; }
        /// <summary>Output positions computed per channel: OutHeight·Wp rounded up to whole blocks.</summary>
        public int Positions { get; }
        public int PaddedLength { get; }
        public int OutputLength { get; }
        public int Workspace => PaddedLength + OutputLength;
    }

    /// <summary>padded ← x with its border (zeros or the image wrapped around), and zeros after the last plane.</summary>
    public static void Pad(in Conv2dGeometry g, in Plan plan, float* x, float* padded)
    {
        int h = g.Height, w = g.Width, p = g.Padding, wp = plan.PaddedWidth;
        bool circular = g.PaddingMode == ConvPadding.Circular;
        for (int c = 0; c < g.InChannels; c++)
        {
            float* src = x + (long)c * h * w, dst = padded + (long)c * plan.Plane;
            for (int r = 0; r < plan.PaddedHeight; r++)
            {
                float* d = dst + r * wp, s = PaddedRow.Source(src, r, h, w, p, circular);
                if (s == null) new Span<float>(d, wp).Clear();
                else PaddedRow.Fill(s, w, p, circular, d);
            }
        }
        new Span<float>(padded + (long)g.InChannels * plan.Plane, plan.PaddedLength - g.InChannels * plan.Plane).Clear();
    }

    /// <summary>output[o, q] for q &lt; plan.Positions (padded row layout) from the padded image and the weight [OutChannels, WeightColumns].</summary>
    public static void Forward(in Conv2dGeometry g, in Plan plan, float* padded, float* weight, long ldw, float* output)
    {
        int taps = g.KernelHeight * g.KernelWidth;
        int* shift = stackalloc int[taps];
        for (int i = 0, t = 0; i < g.KernelHeight; i++)
            for (int j = 0; j < g.KernelWidth; j++, t++) shift[t] = i * plan.PaddedWidth + j;
        Blocks(padded, g.InChannels, plan.Plane, shift, taps, plan.Positions, g.OutChannels, weight, ldw, output);
    }

    /// <summary>
    /// output[o, q] = Σ_c Σ_t weight[o, c·taps + t]·x[c·plane + q + shift[t]] for q &lt; positions (a multiple of 16), output
    /// rows <paramref name="positions"/> apart: the register-blocked loop of <see cref="Forward"/>, for any layout whose taps
    /// are constant shifts (also <see cref="PolyphaseConv"/>'s).
    /// </summary>
    internal static void Blocks(float* x, int channels, int plane, int* shift, int taps, int positions, int outChannels, float* weight, long ldw, float* output)
    {
        int o = 0;
        for (; o + ChannelBlock <= outChannels; o += ChannelBlock)
            for (int q = 0; q < positions; q += Lanes)
                Block4(x + q, channels, plane, shift, taps, weight + o * ldw, ldw, output + (long)o * positions + q, positions);
        for (; o < outChannels; o++)
            for (int q = 0; q < positions; q += Lanes)
                Block1(x + q, channels, plane, shift, taps, weight + o * ldw, output + (long)o * positions + q);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block4(float* x, int channels, int plane, int* shift, int taps, float* w, long ldw, float* y, int ldy)
    {
        Vector256<float> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default, a30 = default, a31 = default;
        for (int c = 0; c < channels; c++, x += plane, w += taps)
            for (int t = 0; t < taps; t++)
            {
                float* xs = x + shift[t];
                var x0 = Avx.LoadVector256(xs);
                var x1 = Avx.LoadVector256(xs + 8);
                var b = Vector256.Create(w[t]);
                a00 = Fma.MultiplyAdd(b, x0, a00); a01 = Fma.MultiplyAdd(b, x1, a01);
                b = Vector256.Create(w[ldw + t]);
                a10 = Fma.MultiplyAdd(b, x0, a10); a11 = Fma.MultiplyAdd(b, x1, a11);
                b = Vector256.Create(w[2 * ldw + t]);
                a20 = Fma.MultiplyAdd(b, x0, a20); a21 = Fma.MultiplyAdd(b, x1, a21);
                b = Vector256.Create(w[3 * ldw + t]);
                a30 = Fma.MultiplyAdd(b, x0, a30); a31 = Fma.MultiplyAdd(b, x1, a31);
            }
        Avx.Store(y, a00); Avx.Store(y + 8, a01);
        Avx.Store(y + ldy, a10); Avx.Store(y + ldy + 8, a11);
        Avx.Store(y + 2 * ldy, a20); Avx.Store(y + 2 * ldy + 8, a21);
        Avx.Store(y + 3 * ldy, a30); Avx.Store(y + 3 * ldy + 8, a31);
    }

    private static void Block1(float* x, int channels, int plane, int* shift, int taps, float* w, float* y)
    {
        Vector256<float> a0 = default, a1 = default;
        for (int c = 0; c < channels; c++, x += plane, w += taps)
            for (int t = 0; t < taps; t++)
            {
                float* xs = x + shift[t];
                var b = Vector256.Create(w[t]);
                a0 = Fma.MultiplyAdd(b, Avx.LoadVector256(xs), a0);
                a1 = Fma.MultiplyAdd(b, Avx.LoadVector256(xs + 8), a1);
            }
        Avx.Store(y, a0); Avx.Store(y + 8, a1);
    }

    /// <summary>y[o, r, s] ← output[o, r·Wp + s] + bias[o] + β·y[o, r, s] (β = 0: y not read; bias may be null).</summary>
    public static void Store(in Conv2dGeometry g, in Plan plan, float* output, float* bias, float beta, float* y)
        => Store(g, plan.Positions, plan.PaddedWidth, output, bias, beta, y);

    /// <summary>As <see cref="Store(in Conv2dGeometry, in Plan, float*, float*, float, float*)"/> for output rows <paramref name="rowStride"/> apart, channels <paramref name="positions"/> apart.</summary>
    internal static void Store(in Conv2dGeometry g, int positions, int rowStride, float* output, float* bias, float beta, float* y)
    {
        int oh = g.OutHeight, ow = g.OutWidth, wp = rowStride;
        for (int o = 0; o < g.OutChannels; o++)
        {
            float add = bias == null ? 0f : bias[o];
            float* src = output + (long)o * positions, dst = y + (long)o * oh * ow;
            for (int r = 0; r < oh; r++, src += wp, dst += ow)
            {
                int s = 0;
                var vb = Vector256.Create(add);
                if (beta == 0f)
                {
                    for (; s <= ow - 8; s += 8) Avx.Store(dst + s, Avx.Add(Avx.LoadVector256(src + s), vb));
                    for (; s < ow; s++) dst[s] = src[s] + add;
                }
                else
                {
                    var vbeta = Vector256.Create(beta);
                    for (; s <= ow - 8; s += 8) Avx.Store(dst + s, Fma.MultiplyAdd(vbeta, Avx.LoadVector256(dst + s), Avx.Add(Avx.LoadVector256(src + s), vb)));
                    for (; s < ow; s++) dst[s] = src[s] + add + beta * dst[s];
                }
            }
        }
    }

    /// <summary>
    /// The geometry whose stride-1 convolution is the adjoint of g's (for the input gradient): gradOutput convolved with the
    /// flipped, transposed kernel, padded by KernelHeight − 1 − Padding. Only for square kernels with Padding ≤ Kernel − 1,
    /// and for circular padding only where the output keeps the image size (2·Padding = Kernel − 1); null otherwise.
    /// </summary>
    public static Conv2dGeometry? Adjoint(in Conv2dGeometry g)
    {
        if (g.Stride != 1 || g.KernelHeight != g.KernelWidth || g.Padding > g.KernelHeight - 1) return null;
        if (g.PaddingMode == ConvPadding.Circular && 2 * g.Padding != g.KernelHeight - 1) return null;
        int padding = g.KernelHeight - 1 - g.Padding;
        if (g.PaddingMode == ConvPadding.Circular && (padding > g.OutHeight || padding > g.OutWidth)) return null;
        return new Conv2dGeometry(g.OutChannels, g.OutHeight, g.OutWidth, g.InChannels, g.KernelHeight, g.KernelWidth, 1, padding, g.PaddingMode);
    }

    /// <summary>flipped[c, o, KH−1−i, KW−1−j] ← weight[o, c, i, j]: the kernel of <see cref="Adjoint"/>.</summary>
    public static void FlipTranspose(in Conv2dGeometry g, float* weight, long ldw, float* flipped)
    {
        int taps = g.KernelHeight * g.KernelWidth;
        for (int o = 0; o < g.OutChannels; o++)
            for (int c = 0; c < g.InChannels; c++)
            {
                float* src = weight + o * ldw + c * taps, dst = flipped + ((long)c * g.OutChannels + o) * taps;
                for (int t = 0; t < taps; t++) dst[taps - 1 - t] = src[t];
            }
    }
}
