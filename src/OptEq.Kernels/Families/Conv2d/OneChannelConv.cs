using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace OptEq.Kernels.Native;

/// <summary>
/// The float32 forward convolution with ONE input channel at stride ≥ 2 (the models' input convolution on MNIST),
/// vectorised along output positions and written straight into NCHW (AVX2 + FMA). With one input channel each output
/// is only KH·KW multiply-adds, so the pass is bound by writing its output; the channels-last kernel's pixel-major
/// result and its transpose into NCHW cost more than the products there.
/// <para>
/// Per sample, the tap planes are gathered first (im2col of one channel): col[t][p] = xpad[s·r + i][s·c + j] for tap
/// t = (i, j) and output pixel p = r·OutWidth + c, zero or wrapped border, each tap row OutPixels long and zero-padded to
/// whole register blocks so the product never reads past it. At stride 2 a padded row is split into its even and odd
/// columns once (<see cref="PaddedRow.Deinterleave(float*, int, float*, float*)"/>) and every tap's run is a copy; other
/// strides gather element by element. Then out[o][p] = bias[o] + Σ_t w[o][t]·col[t][p] (+ β·out[o][p]; β = 0: out not
/// read) in register blocks of <see cref="ChannelBlock"/> output channels × <see cref="Vectors"/> vectors of 8 positions
/// (12 accumulators starting at the bias; per tap 3 loads of col, 4 weight broadcasts, 12 FMAs), stored into the output
/// planes directly, the last partial vector of each plane with a masked store, so no plane is written past its end.
/// </para>
/// Measured (1×28×28 → 32 and 48, 3×3, stride 2, padding 1; noisy shared machine): one worker in CPU time, 1.5× the
/// channels-last kernel at batch 8 and 1.25–1.5× at batch 128; <c>opteq bench conv --algorithm all</c> at batch 128 on two
/// workers, 1.1–2.4× im2col + GEMM and 1.3–1.7× the channels-last kernel in 11 pairs of 12 (one 0.8×; docs/kernels.md).
/// </summary>
internal static unsafe class OneChannelConv
{
    /// <summary>
    /// The largest kernel taken (3 × 3). With few taps the pass is bound by writing its output, which this kernel does
    /// once; at 5 × 5 (25 taps) the products weigh more and it measured only level with the channels-last kernel (batch
    /// 128: 1.0–1.1× with one worker in CPU time, 0.85–1.6× either way with two, noisy), so those shapes stay there.
    /// </summary>
    public const int MaxTaps = 9;

    /// <summary>Output channels and 8-float vectors of positions per register block.</summary>
    private const int ChannelBlock = 4, Vectors = 3, Lanes = 8 * Vectors;

    /// <summary>
    /// float32 with one input channel, at stride 2 or more, with a kernel of at most <see cref="MaxTaps"/> taps, on a CPU
    /// with 256-bit vectors and FMA, not narrowed below 256 bits, under <see cref="NativeConvAlgorithm.Auto"/> (Direct and
    /// Im2Col keep im2col + GEMM for comparison). Stride 1 with one input channel is <see cref="DirectConv"/>'s (Winograd's
    /// at 3×3).
    /// </summary>
    public static bool Applies(in Conv2dGeometry g) =>
        g.InChannels == 1 && g.Stride >= 2 && g.KernelHeight * g.KernelWidth <= MaxTaps && Fma.IsSupported && Avx2.IsSupported && SimdWidth.Current >= VectorWidth.Bits256
        && NativeConvolution.Algorithm == NativeConvAlgorithm.Auto;

    /// <summary>The sizes of one sample's workspace: a padded row, its even and odd columns, then the tap planes.</summary>
    public readonly struct Plan
    {
        public Plan(in Conv2dGeometry g)
        {
            PaddedWidth = g.Width + 2 * g.Padding;
            PhaseWidth = (PaddedWidth + 1) / 2;
            RowLength = 2 * PhaseWidth + 8;
            Taps = g.KernelHeight * g.KernelWidth;
            // Whole register blocks of 24, except a last block of at most 8 positions, which is one vector: three spent a
            // twelfth of the products on padding at 14 × 14 (196 = 8 · 24 + 4).
            TapLength = g.OutPixels % Lanes is > 0 and <= 8 ? g.OutPixels / Lanes * Lanes + 8 : (g.OutPixels + Lanes - 1) / Lanes * Lanes;
            // 16 floats of slack to start the tap planes on a 64-byte boundary (no load of them crosses a cache line).
            Workspace = RowLength + 2 * PhaseWidth + 16 + Taps * TapLength;
        }

        public int PaddedWidth { get; }
        /// <summary>Entries of the even (and of the odd) columns of a padded row: ⌈Wp/2⌉.</summary>
        public int PhaseWidth { get; }
        /// <summary>The padded row's scratch: Wp floats, then zeros up to what the deinterleave reads.</summary>
        public int RowLength { get; }
        public int Taps { get; }
        /// <summary>One tap row: OutPixels rounded up to whole register blocks (the last one vector when it has at most 8 positions), the rest zeros.</summary>
        public int TapLength { get; }
        public int Workspace { get; }
    }

    /// <summary>col[t·TapLength + p] ← the tap planes of one sample x (H × W) padded; the entries past OutPixels zero. scratch: Plan.RowLength + 2·Plan.PhaseWidth floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Gather(in Conv2dGeometry g, in Plan plan, float* x, float* scratch, float* col)
    {
        int h = g.Height, w = g.Width, p = g.Padding, s = g.Stride, kh = g.KernelHeight, kw = g.KernelWidth;
        int oh = g.OutHeight, ow = g.OutWidth, wp = plan.PaddedWidth, length = plan.TapLength, pixels = g.OutPixels;
        bool circular = g.PaddingMode == ConvPadding.Circular;
        float* row = scratch, even = scratch + plan.RowLength, odd = even + plan.PhaseWidth;
        for (int t = 0; t < plan.Taps; t++) new Span<float>(col + (long)t * length + pixels, length - pixels).Clear();
        new Span<float>(row + wp, plan.RowLength - wp).Clear();
        // Padded row y meets kernel row i at output row r where y = s·r + i.
        int lastRow = Math.Min(h + 2 * p, s * (oh - 1) + kh);
        for (int y = 0; y < lastRow; y++)
        {
            // The kernel rows i ≡ y (mod s) with 0 ≤ (y − i)/s < OutHeight, from the first.
            int lowest = Math.Max(0, y - s * (oh - 1)), first = lowest + (y - lowest) % s;
            if (first >= kh) continue;
            float* source = PaddedRow.Source(x, y, h, w, p, circular);
            if (source == null) new Span<float>(row, wp).Clear();
            else PaddedRow.Fill(source, w, p, circular, row);
            if (s == 2) PaddedRow.Deinterleave(row, plan.PhaseWidth, even, odd);
            for (int i = first; i < kh && i <= y; i += s)
            {
                float* dst = col + (long)i * kw * length + (y - i) / s * ow;
                for (int j = 0; j < kw; j++, dst += length)
                {
                    if (s == 2) PaddedRow.Copy(((j & 1) == 0 ? even : odd) + (j >> 1), dst, ow);
                    else for (int c = 0; c < ow; c++) dst[c] = row[j + s * c];
                }
            }
        }
    }

    /// <summary>y[o·OutPixels + p] ← bias[o] + Σ_t weight[o·ldw + t]·col[t·TapLength + p] + β·y (β = 0: y not read; bias may be null).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(in Conv2dGeometry g, in Plan plan, float* col, float* weight, long ldw, float* bias, float beta, float* y)
    {
        int taps = plan.Taps, length = plan.TapLength, pixels = g.OutPixels, o = 0;
        for (; o + ChannelBlock <= g.OutChannels; o += ChannelBlock)
            for (int q = 0; q < pixels; q += Lanes)
            {
                float* b = bias == null ? null : bias + o, yq = y + (long)o * pixels + q;
                if (pixels - q > 8) Block4<BlockOfThree>(col + q, length, taps, weight + o * ldw, ldw, b, beta, yq, pixels, pixels - q);
                else Block4<BlockOfOne>(col + q, length, taps, weight + o * ldw, ldw, b, beta, yq, pixels, pixels - q);
            }
        for (; o < g.OutChannels; o++)
            for (int q = 0; q < pixels; q += Lanes)
            {
                float b = bias == null ? 0f : bias[o];
                float* yq = y + (long)o * pixels + q;
                if (pixels - q > 8) Block1<BlockOfThree>(col + q, length, taps, weight + o * ldw, b, beta, yq, pixels - q);
                else Block1<BlockOfOne>(col + q, length, taps, weight + o * ldw, b, beta, yq, pixels - q);
            }
    }

    /// <summary>4 output channels × 24 (or 8) positions: 12 accumulators, per tap 3 loads, 4 broadcasts, 12 FMAs (or 4 of each).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block4<TVectors>(float* col, int length, int taps, float* w, long ldw, float* bias, float beta, float* y, int ldy, int count)
        where TVectors : struct, IBlockSize
    {
        Vector256<float> a0 = bias == null ? default : Vector256.Create(bias[0]), b0 = bias == null ? default : Vector256.Create(bias[1]);
        Vector256<float> c0 = bias == null ? default : Vector256.Create(bias[2]), d0 = bias == null ? default : Vector256.Create(bias[3]);
        Vector256<float> a1 = a0, a2 = a0, b1 = b0, b2 = b0, c1 = c0, c2 = c0, d1 = d0, d2 = d0;
        for (int t = 0; t < taps; t++, col += length)
        {
            var x0 = Avx.LoadVector256(col);
            var x1 = TVectors.Count > 1 ? Avx.LoadVector256(col + 8) : default;
            var x2 = TVectors.Count > 1 ? Avx.LoadVector256(col + 16) : default;
            var v = Vector256.Create(w[t]);
            a0 = Fma.MultiplyAdd(v, x0, a0);
            if (TVectors.Count > 1) { a1 = Fma.MultiplyAdd(v, x1, a1); a2 = Fma.MultiplyAdd(v, x2, a2); }
            v = Vector256.Create(w[ldw + t]);
            b0 = Fma.MultiplyAdd(v, x0, b0);
            if (TVectors.Count > 1) { b1 = Fma.MultiplyAdd(v, x1, b1); b2 = Fma.MultiplyAdd(v, x2, b2); }
            v = Vector256.Create(w[2 * ldw + t]);
            c0 = Fma.MultiplyAdd(v, x0, c0);
            if (TVectors.Count > 1) { c1 = Fma.MultiplyAdd(v, x1, c1); c2 = Fma.MultiplyAdd(v, x2, c2); }
            v = Vector256.Create(w[3 * ldw + t]);
            d0 = Fma.MultiplyAdd(v, x0, d0);
            if (TVectors.Count > 1) { d1 = Fma.MultiplyAdd(v, x1, d1); d2 = Fma.MultiplyAdd(v, x2, d2); }
        }
        Put(a0, a1, a2, beta, y, count);
        Put(b0, b1, b2, beta, y + ldy, count);
        Put(c0, c1, c2, beta, y + 2 * ldy, count);
        Put(d0, d1, d2, beta, y + 3 * ldy, count);
    }

    /// <summary>One output channel × 24 (or 8) positions: the output channels past the last whole block of 4.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block1<TVectors>(float* col, int length, int taps, float* w, float bias, float beta, float* y, int count)
        where TVectors : struct, IBlockSize
    {
        Vector256<float> a0 = Vector256.Create(bias), a1 = a0, a2 = a0;
        for (int t = 0; t < taps; t++, col += length)
        {
            var v = Vector256.Create(w[t]);
            a0 = Fma.MultiplyAdd(v, Avx.LoadVector256(col), a0);
            if (TVectors.Count == 1) continue;
            a1 = Fma.MultiplyAdd(v, Avx.LoadVector256(col + 8), a1);
            a2 = Fma.MultiplyAdd(v, Avx.LoadVector256(col + 16), a2);
        }
        Put(a0, a1, a2, beta, y, count);
    }

    /// <summary>The first min(count, 24) of y ← (v0, v1, v2) + β·y: whole vectors, then a masked one (β = 0: y not read).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(Vector256<float> v0, Vector256<float> v1, Vector256<float> v2, float beta, float* y, int count)
    {
        if (count >= Lanes)
        {
            Put(v0, beta, y); Put(v1, beta, y + 8); Put(v2, beta, y + 16);
            return;
        }
        if (count >= 8) Put(v0, beta, y); else { PutMasked(v0, beta, y, count); return; }
        if (count >= 16) Put(v1, beta, y + 8); else { if (count > 8) PutMasked(v1, beta, y + 8, count - 8); return; }
        if (count > 16) PutMasked(v2, beta, y + 16, count - 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(Vector256<float> v, float beta, float* y)
    {
        if (beta != 0f) v = Fma.MultiplyAdd(Vector256.Create(beta), Avx.LoadVector256(y), v);
        Avx.Store(y, v);
    }

    /// <summary>y[0..count) ← v + β·y for 0 &lt; count &lt; 8; the lanes past count neither read nor written.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PutMasked(Vector256<float> v, float beta, float* y, int count)
    {
        var mask = Avx2.CompareGreaterThan(Vector256.Create(count), Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7)).AsSingle();
        if (beta != 0f) v = Fma.MultiplyAdd(Vector256.Create(beta), Avx.MaskLoad(y, mask), v);
        Avx.MaskStore(y, mask, v);
    }

    /// <summary>
    /// The forward pass of a batch, each part with its own workspace, taking samples one at a time from a shared counter.
    /// With fixed halves the worker's half finished last in almost every call: timing each part inside the call (batch
    /// 128, 32 channels) gave the worker's 64 samples a median 1.1–1.6× the caller's, and the call waited for it. Samples
    /// are independent, so the result does not depend on who takes which.
    /// </summary>
    public struct ForwardSamples : IRangeBody
    {
        public Conv2dGeometry G;
        public Plan Plan;
        public int Batch;
        public float* Workspace, Weight, Bias;
        public long LdWeight;
        public RowPointer<float> Input, Output;
        public float Beta;
        public int* NextSample;

        public readonly void Run(int q0, int q1)
        {
            for (int q = q0; q < q1; q++)
            {
                float* scratch = Workspace + (long)q * Plan.Workspace;
                float* col = (float*)(((nint)(scratch + Plan.RowLength + 2 * Plan.PhaseWidth) + 63) & ~(nint)63);
                for (int b = Conv2dNative.ClaimSample(NextSample); b < Batch; b = Conv2dNative.ClaimSample(NextSample))
                {
                    Gather(G, Plan, Input[b], scratch, col);
                    Forward(G, Plan, col, Weight, LdWeight, Bias, Beta, Output[b]);
                }
            }
        }
    }
}
