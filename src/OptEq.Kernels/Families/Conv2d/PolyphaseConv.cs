using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace OptEq.Kernels.Native;

/// <summary>
/// Direct float32 convolution at stride 2 with AVX2 + FMA, without a column matrix. The padded image (Hp × Wp per channel,
/// zero or wrapped border) is split into its four polyphase planes, phase (a, b) holding padded[2r + a, 2c + b], each
/// ⌈Hp/2⌉ × ⌈Wp/2⌉ (Wph wide). Output (r, c) reads padded[2r + i, 2c + j] = phase(i mod 2, j mod 2)[r + i/2, c + j/2], so
/// with the output in the phase row layout (row stride Wph, the last Wph − OutWidth columns discarded) every tap (i, j) is
/// one constant shift, the phase's offset + (i/2)·Wph + j/2, and <see cref="DirectConv"/>'s register-blocked loop runs
/// unchanged over the four planes of each channel.
/// </summary>
internal static unsafe class PolyphaseConv
{
    private const int Lanes = 16;

    /// <summary>
    /// The forward pass: float32 at stride 2 with at least 4 output channels (a whole register block) and at least 2 input
    /// channels, on a CPU with 256-bit vectors and FMA, not narrowed below 256 bits, unless
    /// <see cref="NativeConvolution.ColumnsOnly"/>. (With one input channel, 9 taps per register block, the two algorithms
    /// measured within noise of each other at 1×28×28 → 32 and 48, so im2col + GEMM is kept there.)
    /// </summary>
    public static bool Applies(in Conv2dGeometry g) =>
        g.Stride == 2 && g.OutChannels >= 4 && g.InChannels >= 2 && Fma.IsSupported && Avx2.IsSupported && SimdWidth.Current >= VectorWidth.Bits256 && !NativeConvolution.ColumnsOnly;

    /// <summary>The sizes of one sample's workspace: a row of the padded image, the four phase planes per channel, then the output in phase rows.</summary>
    public readonly struct Plan
    {
        public Plan(in Conv2dGeometry g)
        {
            PaddedHeight = g.Height + 2 * g.Padding;
            PaddedWidth = g.Width + 2 * g.Padding;
            PhaseHeight = (PaddedHeight + 1) / 2;
            PhaseWidth = (PaddedWidth + 1) / 2;
            PhasePlane = PhaseHeight * PhaseWidth;
            Plane = 4 * PhasePlane;
            Positions = (g.OutHeight * PhaseWidth + Lanes - 1) / Lanes * Lanes;
            // The last position block of the last channel reads up to Positions + the largest shift past that channel's start.
            int maxShift = 3 * PhasePlane + (g.KernelHeight - 1) / 2 * PhaseWidth + (g.KernelWidth - 1) / 2;
            PhasedLength = (g.InChannels - 1) * Plane + Math.Max(Plane, Positions + maxShift);
            StagedRow = (2 * PhaseWidth + 8 + 7) / 8 * 8;
            RowLength = 2 * PhaseHeight * StagedRow;
            OutputLength = g.OutChannels * Positions;
        }

        public int PaddedHeight { get; }
        public int PaddedWidth { get; }
        public int PhaseHeight { get; }
        public int PhaseWidth { get; }
        public int PhasePlane { get; }
        /// <summary>One channel: its four phase planes, (0,0), (0,1), (1,0), (1,1).</summary>
        public int Plane { get; }
        /// <summary>Output positions computed per channel: OutHeight·Wph rounded up to whole blocks.</summary>
        public int Positions { get; }
        public int PhasedLength { get; }
        /// <summary>Floats per staged padded row: 2·Wph + 8 readable entries, rounded up to whole vectors.</summary>
        public int StagedRow { get; }
        /// <summary>The staged rows of one channel: 2·Hph rows of <see cref="StagedRow"/>.</summary>
        public int RowLength { get; }
        public int OutputLength { get; }
        public int Workspace => RowLength + PhasedLength + OutputLength;
    }

    /// <summary>
    /// phased ← the four phase planes of each channel of x padded (zeros or the image wrapped around); the entries past a
    /// short phase (odd Hp or Wp) and after the last channel are zeros. rows: scratch of <see cref="Plan.RowLength"/>.
    /// A channel's rows are all staged (border added) before the first is split: a split loads whole vectors across the
    /// few stores that built its row, and loading them right after those stores stalls until the stores reach the cache.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Split(in Conv2dGeometry g, in Plan plan, float* x, float* phased, float* rows)
    {
        int h = g.Height, w = g.Width, p = g.Padding, wph = plan.PhaseWidth, pp = plan.PhasePlane, staged = plan.StagedRow;
        bool circular = g.PaddingMode == ConvPadding.Circular;
        // Entries past the padded width (read by the split of an odd width) stay zero from this clear.
        new Span<float>(rows, plan.RowLength).Clear();
        for (int c = 0; c < g.InChannels; c++)
        {
            float* src = x + (long)c * h * w, dst = phased + (long)c * plan.Plane;
            for (int r = 0; r < 2 * plan.PhaseHeight; r++)
                if (PaddedRow.Source(src, r, h, w, p, circular) is var s && s != null) PaddedRow.Fill(s, w, p, circular, rows + r * staged);
            for (int r = 0; r < 2 * plan.PhaseHeight; r++)
            {
                float* even = dst + (r & 1) * 2 * pp + (r >> 1) * wph, odd = even + pp;
                if (PaddedRow.Source(src, r, h, w, p, circular) == null)
                {
                    new Span<float>(even, wph).Clear();
                    new Span<float>(odd, wph).Clear();
                    continue;
                }
                PaddedRow.Deinterleave(rows + r * staged, wph, even, odd);
            }
        }
        new Span<float>(phased + (long)g.InChannels * plan.Plane, plan.PhasedLength - g.InChannels * plan.Plane).Clear();
    }

    /// <summary>output[o, q] for q &lt; plan.Positions (phase row layout) from the phase planes and the weight [OutChannels, WeightColumns].</summary>
    public static void Forward(in Conv2dGeometry g, in Plan plan, float* phased, float* weight, long ldw, float* output)
    {
        int taps = g.KernelHeight * g.KernelWidth;
        int* shift = stackalloc int[taps];
        for (int i = 0, t = 0; i < g.KernelHeight; i++)
            for (int j = 0; j < g.KernelWidth; j++, t++)
                shift[t] = ((i & 1) * 2 + (j & 1)) * plan.PhasePlane + (i >> 1) * plan.PhaseWidth + (j >> 1);
        DirectConv.Blocks(phased, g.InChannels, plan.Plane, shift, taps, plan.Positions, g.OutChannels, weight, ldw, output);
    }

    /// <summary>The forward pass of a batch: samples split across the cores, each part with its own workspace.</summary>
    public struct ForwardSamples : IRangeBody
    {
        public Conv2dGeometry G;
        public Plan Plan;
        public int Batch, Parts;
        public float* Workspace, Weight, Bias;
        public long LdWeight;
        public RowPointer<float> Input, Output;
        public float Beta;

        public readonly void Run(int q0, int q1)
        {
            for (int q = q0; q < q1; q++)
            {
                var (b0, b1) = Conv2dNative.Samples(Batch, q, Parts);
                float* row = Workspace + (long)q * Plan.Workspace, phased = row + Plan.RowLength, result = phased + Plan.PhasedLength;
                for (int b = b0; b < b1; b++)
                {
                    Split(G, Plan, Input[b], phased, row);
                    Forward(G, Plan, phased, Weight, LdWeight, result);
                    DirectConv.Store(G, Plan.Positions, Plan.PhaseWidth, result, Bias, Beta, Output[b]);
                }
            }
        }
    }
}
