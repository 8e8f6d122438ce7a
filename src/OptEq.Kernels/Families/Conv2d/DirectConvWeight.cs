using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace OptEq.Kernels.Native;

/// <summary>
/// The weight gradient of a stride-1 float32 convolution with few input channels (the one-channel input convolutions),
/// with AVX2 + FMA and without a column matrix. In <see cref="DirectConv"/>'s padded row layout every tap is a constant
/// shift, so dW[o, n] = Σ_b Σ_q dy[b, o, q]·padded[b, c·plane + q + shift(t)] for weight column n = c·taps + t, with dy
/// staged into the same row layout (row stride Wp, zeros in the columns past OutWidth). The vectors run along the
/// positions q: a register block of 4 output channels × 3 weight columns (12 accumulators) takes per 8 positions 4 loads
/// of dy, 3 of the image and 12 FMAs. Each part adds its blocks' accumulators, still as vectors, into its own sums; the
/// lanes and the parts are summed once at the end. (im2col's GEMM has only Cin·taps = 9 columns here, a third of its
/// 16-wide tile unused.)
/// </summary>
internal static unsafe class DirectConvWeight
{
    private const int ChannelBlock = 4, ColumnBlock = 3, Lanes = 8;

    /// <summary>
    /// <see cref="DirectConv.Applies"/>'s conditions and at most 3 input channels: with more, the column matrix has enough
    /// columns for the packed GEMM (and 3×3 kernels from 4 channels on run Winograd).
    /// </summary>
    public static bool Applies(in Conv2dGeometry g) => DirectConv.Applies(g) && g.InChannels <= 3;

    /// <summary>Output channels rounded up to whole blocks.</summary>
    private static int Channels(in Conv2dGeometry g) => (g.OutChannels + ChannelBlock - 1) / ChannelBlock * ChannelBlock;

    /// <summary>Weight columns rounded up to whole blocks.</summary>
    private static int Columns(in Conv2dGeometry g) => (g.WeightColumns + ColumnBlock - 1) / ColumnBlock * ColumnBlock;

    /// <summary>Floats of one part's sums: a vector per (channel, column).</summary>
    public static int SumLength(in Conv2dGeometry g) => Channels(g) * Columns(g) * Lanes;

    /// <summary>Floats of one part's workspace: the padded image and dy staged in rows of Wp.</summary>
    public static int Workspace(in Conv2dGeometry g, in DirectConv.Plan plan) => plan.PaddedLength + Channels(g) * plan.Positions;

    /// <summary>
    /// staged[o, r·Wp + s] ← dy[o, r, s]. The other entries (the columns past OutWidth, past the last row, the padded
    /// channels) are never written: the caller clears them once for all its samples.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Stage(in Conv2dGeometry g, in DirectConv.Plan plan, float* dy, float* staged)
    {
        int oh = g.OutHeight, ow = g.OutWidth, wp = plan.PaddedWidth;
        for (int o = 0; o < g.OutChannels; o++)
            for (int r = 0; r < oh; r++)
                PaddedRow.Copy(dy + ((long)o * oh + r) * ow, staged + (long)o * plan.Positions + r * wp, ow);
    }

    /// <summary>sums[block] += the 12 vectors of each (4 channels × 3 columns) block over every position of one sample.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Accumulate(in Conv2dGeometry g, in DirectConv.Plan plan, float* staged, float* padded, float* sums)
    {
        int taps = g.KernelHeight * g.KernelWidth, columns = g.WeightColumns, positions = plan.Positions;
        float** x = stackalloc float*[ColumnBlock];
        for (int n = 0; n < Columns(g); n += ColumnBlock)
        {
            for (int k = 0; k < ColumnBlock; k++)
            {
                // Columns past the last read column 0; their sums are never used.
                int column = n + k < columns ? n + k : 0, t = column % taps;
                x[k] = padded + (long)(column / taps) * plan.Plane + t / g.KernelWidth * plan.PaddedWidth + t % g.KernelWidth;
            }
            for (int o = 0; o < Channels(g); o += ChannelBlock)
                Block(staged + (long)o * positions, positions, x[0], x[1], x[2], sums + ((long)o * Columns(g) + n * ChannelBlock) * Lanes);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block(float* d, int positions, float* x0, float* x1, float* x2, float* sums)
    {
        Vector256<float> a00 = default, a01 = default, a02 = default, a10 = default, a11 = default, a12 = default;
        Vector256<float> a20 = default, a21 = default, a22 = default, a30 = default, a31 = default, a32 = default;
        float* d1 = d + positions, d2 = d1 + positions, d3 = d2 + positions;
        for (int q = 0; q < positions; q += Lanes)
        {
            var y0 = Avx.LoadVector256(x0 + q);
            var y1 = Avx.LoadVector256(x1 + q);
            var y2 = Avx.LoadVector256(x2 + q);
            var e = Avx.LoadVector256(d + q);
            a00 = Fma.MultiplyAdd(e, y0, a00); a01 = Fma.MultiplyAdd(e, y1, a01); a02 = Fma.MultiplyAdd(e, y2, a02);
            e = Avx.LoadVector256(d1 + q);
            a10 = Fma.MultiplyAdd(e, y0, a10); a11 = Fma.MultiplyAdd(e, y1, a11); a12 = Fma.MultiplyAdd(e, y2, a12);
            e = Avx.LoadVector256(d2 + q);
            a20 = Fma.MultiplyAdd(e, y0, a20); a21 = Fma.MultiplyAdd(e, y1, a21); a22 = Fma.MultiplyAdd(e, y2, a22);
            e = Avx.LoadVector256(d3 + q);
            a30 = Fma.MultiplyAdd(e, y0, a30); a31 = Fma.MultiplyAdd(e, y1, a31); a32 = Fma.MultiplyAdd(e, y2, a32);
        }
        // Sums of (channel o + i, column n + k) at ((i·3 + k)·8): the block's 12 vectors side by side.
        Add(sums, a00); Add(sums + 8, a01); Add(sums + 16, a02);
        Add(sums + 24, a10); Add(sums + 32, a11); Add(sums + 40, a12);
        Add(sums + 48, a20); Add(sums + 56, a21); Add(sums + 64, a22);
        Add(sums + 72, a30); Add(sums + 80, a31); Add(sums + 88, a32);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Add(float* s, Vector256<float> a) => Avx.Store(s, Avx.Add(Avx.LoadVector256(s), a));

    /// <summary>dw[o, n] ← Σ_parts Σ_lanes sums_part(o, n) + β·dw[o, n] (β = 0: dw not read).</summary>
    public static void Finish(in Conv2dGeometry g, float* sums, int parts, float beta, float* dw, long ldw)
    {
        int length = SumLength(g), columns = Columns(g);
        for (int o = 0; o < g.OutChannels; o++)
            for (int n = 0; n < g.WeightColumns; n++)
            {
                // The block of (o, n) starts at (o − o%4)·columns + (n − n%3)·4 vectors; within it, (o%4)·3 + n%3.
                long at = ((long)(o / ChannelBlock * ChannelBlock) * columns + n / ColumnBlock * ColumnBlock * ChannelBlock + o % ChannelBlock * ColumnBlock + n % ColumnBlock) * Lanes;
                float sum = 0f;
                for (int q = 0; q < parts; q++)
                    for (int l = 0; l < Lanes; l++) sum += sums[(long)q * length + at + l];
                float* target = dw + o * ldw + n;
                *target = beta == 0f ? sum : sum + beta * *target;
            }
    }

    /// <summary>The weight gradient of a batch: samples split across the cores, each part accumulating its own sums.</summary>
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
                new Span<float>(staged, Channels(G) * Plan.Positions).Clear();
                for (int b = b0; b < b1; b++)
                {
                    DirectConv.Pad(G, Plan, Input[b], padded);
                    Stage(G, Plan, GradOutput[b], staged);
                    Accumulate(G, Plan, staged, padded, sums);
                }
            }
        }
    }
}
