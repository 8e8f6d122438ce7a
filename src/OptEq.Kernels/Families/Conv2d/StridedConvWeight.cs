using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace OptEq.Kernels.Native;

/// <summary>
/// The weight gradient of a stride-2 convolution in float32 with AVX2 + FMA, without a column matrix:
/// dW[o, n] = Σ_b Σ_(r,s) dy[b, o, r, s]·padded[b, c, 2r + i, 2s + j] for weight column n = (c, i, j), so column n reads
/// the padded image (<see cref="DirectConv.Pad"/>, Hp × Wp per channel) from offset(n) = c·Hp·Wp + i·Wp + j at the
/// positions 2r·Wp + 2s. The vectors run along the output channels: dy is staged transposed (position-major, OutChannels
/// rounded up to 16 with zero lanes), and a register block of 6 weight columns × 16 output channels (12 accumulators, the
/// GEMM micro-kernel's shape) takes per position 2 loads of dy, 6 broadcasts of the image and 12 FMAs, with no sums
/// across lanes. The image is only ever broadcast, so its stride-2 reads need no polyphase split: the split into four
/// phase planes per channel (as <see cref="PolyphaseConv"/> does) cost more than a third of this pass (measured by
/// skipping it: 3.6–4.1 → 2.4–2.6 ms at 16×28×28 → 32, batch 128). Each part accumulates dWᵀ [columns rounded up to 6]
/// [channels rounded up to 16]; the caller adds the parts into dW.
/// </summary>
internal static unsafe class StridedConvWeight
{
    private const int ColumnBlock = 6, ChannelBlock = 16;

    /// <summary>
    /// <see cref="PolyphaseConv.Applies"/>'s conditions and at least 4 input channels: with fewer, the weight has few columns
    /// and staging dominates (measured slower than im2col + GEMM at 1×28×28 → 32 and 48).
    /// </summary>
    public static bool Applies(in Conv2dGeometry g) => PolyphaseConv.Applies(g) && g.InChannels >= 4;

    /// <summary>Output channels rounded up to whole vector blocks.</summary>
    public static int Channels(in Conv2dGeometry g) => (g.OutChannels + ChannelBlock - 1) / ChannelBlock * ChannelBlock;

    /// <summary>Weight columns rounded up to whole column blocks.</summary>
    public static int Columns(in Conv2dGeometry g) => (g.WeightColumns + ColumnBlock - 1) / ColumnBlock * ColumnBlock;

    /// <summary>Floats of one part's dWᵀ accumulator.</summary>
    public static int SumLength(in Conv2dGeometry g) => Columns(g) * Channels(g);

    /// <summary>Floats of one part's workspace: <see cref="DirectConv.Plan"/>'s padded image, dy transposed, then the column offsets (ints).</summary>
    public static int Workspace(in Conv2dGeometry g, in DirectConv.Plan plan) => plan.PaddedLength + g.OutPixels * Channels(g) + Columns(g);

    /// <summary>
    /// staged[p, o] ← dy[o, p] for output pixel p, zeros for o ≥ OutChannels up to <see cref="Channels"/>: in 8 × 8 tiles
    /// where OutChannels is a whole number of vector blocks (no zero lanes to write), else element by element.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Stage(in Conv2dGeometry g, float* dy, float* staged)
    {
        int pixels = g.OutPixels, m = g.OutChannels, ld = Channels(g);
        if (m == ld)
        {
            ChannelsLastConv.StagePlane(dy, m, g.OutHeight, g.OutWidth, staged, g.OutWidth, 0, 0);
            return;
        }
        for (int p = 0; p < pixels; p++)
        {
            float* d = staged + (long)p * ld;
            for (int o = 0; o < m; o++) d[o] = dy[(long)o * pixels + p];
            for (int o = m; o < ld; o++) d[o] = 0f;
        }
    }

    /// <summary>
    /// offsets[n] ← where weight column n = (c, i, j) reads the padded image: c·Hp·Wp + i·Wp + j (columns past WeightColumns
    /// read column 0 and are never stored). Once per part and call, not per sample.
    /// </summary>
    public static void ColumnOffsets(in Conv2dGeometry g, in DirectConv.Plan plan, int* offsets)
    {
        int taps = g.KernelHeight * g.KernelWidth, columns = g.WeightColumns;
        for (int n = 0; n < Columns(g); n++)
        {
            int column = n < columns ? n : 0, t = column % taps;
            offsets[n] = column / taps * plan.Plane + t / g.KernelWidth * plan.PaddedWidth + t % g.KernelWidth;
        }
    }

    /// <summary>sums[n, o] += Σ_(r,s) staged[r·OutWidth + s, o]·padded[offsets[n] + 2r·Wp + 2s].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Accumulate(in Conv2dGeometry g, in DirectConv.Plan plan, float* staged, float* padded, int* offsets, float* sums, ref SamplePrefetch next)
    {
        int columns = Columns(g), ld = Channels(g);
        float** x = stackalloc float*[ColumnBlock];
        for (int n = 0; n < columns; n += ColumnBlock)
        {
            for (int k = 0; k < ColumnBlock; k++) x[k] = padded + offsets[n + k];
            for (int o = 0; o < ld; o += ChannelBlock)
            {
                next.Step();
                Block(staged + o, ld, x, g.OutHeight, g.OutWidth, 2 * plan.PaddedWidth, sums + (long)n * ld + o, ld);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block(float* d, int ldd, float** x, int rows, int width, int rowStride, float* sums, int lds)
    {
        Vector256<float> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default;
        Vector256<float> a30 = default, a31 = default, a40 = default, a41 = default, a50 = default, a51 = default;
        float* x0 = x[0], x1 = x[1], x2 = x[2], x3 = x[3], x4 = x[4], x5 = x[5];
        for (int r = 0; r < rows; r++)
        {
            int q = r * rowStride;
            for (int s = 0; s < width; s++, q += 2, d += ldd)
            {
                var d0 = Avx.LoadVector256(d);
                var d1 = Avx.LoadVector256(d + 8);
                var b = Avx.BroadcastScalarToVector256(x0 + q);
                a00 = Fma.MultiplyAdd(b, d0, a00); a01 = Fma.MultiplyAdd(b, d1, a01);
                b = Avx.BroadcastScalarToVector256(x1 + q);
                a10 = Fma.MultiplyAdd(b, d0, a10); a11 = Fma.MultiplyAdd(b, d1, a11);
                b = Avx.BroadcastScalarToVector256(x2 + q);
                a20 = Fma.MultiplyAdd(b, d0, a20); a21 = Fma.MultiplyAdd(b, d1, a21);
                b = Avx.BroadcastScalarToVector256(x3 + q);
                a30 = Fma.MultiplyAdd(b, d0, a30); a31 = Fma.MultiplyAdd(b, d1, a31);
                b = Avx.BroadcastScalarToVector256(x4 + q);
                a40 = Fma.MultiplyAdd(b, d0, a40); a41 = Fma.MultiplyAdd(b, d1, a41);
                b = Avx.BroadcastScalarToVector256(x5 + q);
                a50 = Fma.MultiplyAdd(b, d0, a50); a51 = Fma.MultiplyAdd(b, d1, a51);
            }
        }
        Add(sums, a00, a01); Add(sums + lds, a10, a11); Add(sums + 2 * lds, a20, a21);
        Add(sums + 3 * lds, a30, a31); Add(sums + 4 * lds, a40, a41); Add(sums + 5 * lds, a50, a51);
    }

    /// <summary>sums[0..16) += (lo, hi).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Add(float* sums, Vector256<float> lo, Vector256<float> hi)
    {
        Avx.Store(sums, Avx.Add(Avx.LoadVector256(sums), lo));
        Avx.Store(sums + 8, Avx.Add(Avx.LoadVector256(sums + 8), hi));
    }

    /// <summary>dw[o, n] ← Σ_parts sums_part[n, o] + β·dw[o, n] (β = 0: dw not read).</summary>
    public static void Finish(in Conv2dGeometry g, float* sums, int parts, float beta, float* dw, long ldw)
    {
        int columns = g.WeightColumns, ld = Channels(g), length = SumLength(g);
        for (int o = 0; o < g.OutChannels; o++)
            for (int n = 0; n < columns; n++)
            {
                float sum = 0f;
                for (int q = 0; q < parts; q++) sum += sums[(long)q * length + (long)n * ld + o];
                float* target = dw + o * ldw + n;
                *target = beta == 0f ? sum : sum + beta * *target;
            }
    }

    /// <summary>The weight gradient of a batch: samples split across the cores, each part accumulating its own dWᵀ.</summary>
    public struct Samples : IRangeBody
    {
        public Conv2dGeometry G;
        public DirectConv.Plan Plan;
        public int Batch, Parts, Workspace;
        public float* Workspaces, Sums;
        public RowPointer<float> Input, GradOutput;

        public readonly void Run(int q0, int q1)
        {
            int length = SumLength(G);
            for (int q = q0; q < q1; q++)
            {
                var (b0, b1) = Conv2dNative.Samples(Batch, q, Parts);
                float* padded = Workspaces + (long)q * Workspace, staged = padded + Plan.PaddedLength;
                float* sums = Sums + (long)q * length;
                new Span<float>(sums, length).Clear();
                int steps = Columns(G) / ColumnBlock * (Channels(G) / ChannelBlock);
                int* offsets = (int*)(staged + G.OutPixels * Channels(G));
                ColumnOffsets(G, Plan, offsets);
                for (int b = b0; b < b1; b++)
                {
                    var next = b + 1 < b1 ? new SamplePrefetch(Input[b + 1], G.InputSize, GradOutput[b + 1], G.OutputSize, steps) : default;
                    DirectConv.Pad(G, Plan, Input[b], padded);
                    Stage(G, GradOutput[b], staged);
                    Accumulate(G, Plan, staged, padded, offsets, sums, ref next);
                }
            }
        }
    }
}
