using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace OptEq.Kernels.Native;

/// <summary>
/// The weight gradient of a stride-2 convolution in float32 with AVX2 + FMA, without a column matrix. In
/// <see cref="PolyphaseConv"/>'s layout tap (i, j) of input channel c is the phase planes read at a constant shift, so
/// dW[o, n] = Σ_b Σ_(r,s) dy[b, o, r, s]·phased[b, offset(n) + r·Wph + s] for weight column n = c·taps + t. The vectors run
/// along the output channels: dy is staged transposed (position-major, OutChannels rounded up to 16 with zero lanes), and
/// a register block of 4 weight columns × 16 output channels (8 accumulators) takes per position 2 loads of dy, 4
/// broadcasts of the image and 8 FMAs, over the valid output positions only, with no sums across lanes. Each part
/// accumulates dWᵀ [columns rounded up to 4][channels rounded up to 16]; the caller adds the parts into dW.
/// </summary>
internal static unsafe class PolyphaseConvWeight
{
    private const int ColumnBlock = 4, ChannelBlock = 16;

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

    /// <summary>Floats of one part's workspace: <see cref="PolyphaseConv.Plan"/>'s row and phase planes, then dy transposed.</summary>
    public static int Workspace(in Conv2dGeometry g, in PolyphaseConv.Plan plan) => plan.RowLength + plan.PhasedLength + g.OutPixels * Channels(g);

    /// <summary>staged[p, o] ← dy[o, p] for output pixel p, zeros for o ≥ OutChannels up to <see cref="Channels"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Stage(in Conv2dGeometry g, float* dy, float* staged)
    {
        int pixels = g.OutPixels, m = g.OutChannels, ld = Channels(g);
        for (int p = 0; p < pixels; p++)
        {
            float* d = staged + (long)p * ld;
            for (int o = 0; o < m; o++) d[o] = dy[(long)o * pixels + p];
            for (int o = m; o < ld; o++) d[o] = 0f;
        }
    }

    /// <summary>sums[n, o] += Σ_(r,s) staged[r·OutWidth + s, o]·phased[offset(n) + r·Wph + s] (columns past WeightColumns read column 0 and are never stored).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Accumulate(in Conv2dGeometry g, in PolyphaseConv.Plan plan, float* staged, float* phased, float* sums)
    {
        int taps = g.KernelHeight * g.KernelWidth, columns = g.WeightColumns, padded = Columns(g), ld = Channels(g);
        int* shift = stackalloc int[taps];
        for (int i = 0, t = 0; i < g.KernelHeight; i++)
            for (int j = 0; j < g.KernelWidth; j++, t++)
                shift[t] = ((i & 1) * 2 + (j & 1)) * plan.PhasePlane + (i >> 1) * plan.PhaseWidth + (j >> 1);
        float** x = stackalloc float*[ColumnBlock];
        for (int n = 0; n < padded; n += ColumnBlock)
        {
            for (int k = 0; k < ColumnBlock; k++)
            {
                int column = n + k < columns ? n + k : 0;
                x[k] = phased + (long)(column / taps) * plan.Plane + shift[column % taps];
            }
            for (int o = 0; o < ld; o += ChannelBlock)
                Block(staged + o, ld, x[0], x[1], x[2], x[3], g.OutHeight, g.OutWidth, plan.PhaseWidth, sums + (long)n * ld + o, ld);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block(float* d, int ldd, float* x0, float* x1, float* x2, float* x3, int rows, int width, int rowStride, float* sums, int lds)
    {
        Vector256<float> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default, a30 = default, a31 = default;
        for (int r = 0; r < rows; r++)
        {
            int q = r * rowStride;
            for (int s = 0; s < width; s++, q++, d += ldd)
            {
                var d0 = Avx.LoadVector256(d);
                var d1 = Avx.LoadVector256(d + 8);
                var b = Vector256.Create(x0[q]);
                a00 = Fma.MultiplyAdd(b, d0, a00); a01 = Fma.MultiplyAdd(b, d1, a01);
                b = Vector256.Create(x1[q]);
                a10 = Fma.MultiplyAdd(b, d0, a10); a11 = Fma.MultiplyAdd(b, d1, a11);
                b = Vector256.Create(x2[q]);
                a20 = Fma.MultiplyAdd(b, d0, a20); a21 = Fma.MultiplyAdd(b, d1, a21);
                b = Vector256.Create(x3[q]);
                a30 = Fma.MultiplyAdd(b, d0, a30); a31 = Fma.MultiplyAdd(b, d1, a31);
            }
        }
        Avx.Store(sums, Avx.Add(Avx.LoadVector256(sums), a00)); Avx.Store(sums + 8, Avx.Add(Avx.LoadVector256(sums + 8), a01));
        sums += lds;
        Avx.Store(sums, Avx.Add(Avx.LoadVector256(sums), a10)); Avx.Store(sums + 8, Avx.Add(Avx.LoadVector256(sums + 8), a11));
        sums += lds;
        Avx.Store(sums, Avx.Add(Avx.LoadVector256(sums), a20)); Avx.Store(sums + 8, Avx.Add(Avx.LoadVector256(sums + 8), a21));
        sums += lds;
        Avx.Store(sums, Avx.Add(Avx.LoadVector256(sums), a30)); Avx.Store(sums + 8, Avx.Add(Avx.LoadVector256(sums + 8), a31));
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
        public PolyphaseConv.Plan Plan;
        public int Batch, Parts, Workspace;
        public float* Workspaces, Sums;
        public RowPointer<float> Input, GradOutput;

        public readonly void Run(int q0, int q1)
        {
            int length = SumLength(G);
            for (int q = q0; q < q1; q++)
            {
                var (b0, b1) = Conv2dNative.Samples(Batch, q, Parts);
                float* row = Workspaces + (long)q * Workspace, phased = row + Plan.RowLength, staged = phased + Plan.PhasedLength;
                float* sums = Sums + (long)q * length;
                new Span<float>(sums, length).Clear();
                for (int b = b0; b < b1; b++)
                {
                    PolyphaseConv.Split(G, Plan, Input[b], phased, row);
                    Stage(G, GradOutput[b], staged);
                    Accumulate(G, Plan, staged, phased, sums);
                }
            }
        }
    }
}
