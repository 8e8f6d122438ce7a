using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace OptEq.Kernels.Native;

/// <summary>
/// The input gradient of a stride-2 convolution (its transpose) in float32 with AVX2 + FMA, without a column matrix. The
/// gradient with respect to the padded image at (2u + a, 2v + b) collects only the taps (i, j) = (2k + a, 2l + b):
/// dpadded[c, 2u + a, 2v + b] = Σ_o Σ_{k,l} w[o, c, 2k + a, 2l + b]·dy[o, u − k, v − l]. So each of the four phases (a, b) is a
/// stride-1 correlation of dy with that phase's taps, computed by <see cref="DirectConv"/>'s register-blocked loop over dy
/// copied into a zero-bordered plane (Top rows above, Left columns before), tap (k, l) at the constant shift
/// (Top − k)·Width + Left − l. The phases are then interleaved into the input gradient (zero padding: the image part of the
/// padded gradient) or, for circular padding, the whole padded gradient is folded back onto the image (the transpose of
/// wrapping).
/// </summary>
internal static unsafe class PolyphaseConvTranspose
{
    private const int Lanes = 16;

    /// <summary>
    /// float32 at stride 2 with at least 4 input channels (a whole register block of the gradient's channels), on a CPU with
    /// 256-bit vectors and FMA, not narrowed below 256 bits, unless <see cref="NativeConvolution.ColumnsOnly"/>.
    /// </summary>
    public static bool Applies(in Conv2dGeometry g) =>
        g.Stride == 2 && g.InChannels >= 4 && Fma.IsSupported && SimdWidth.Current >= VectorWidth.Bits256 && !NativeConvolution.ColumnsOnly;

    /// <summary>
    /// The layout: dy in a zero-bordered plane per output channel, then the four phases of the padded gradient (0,0), (0,1),
    /// (1,0), (1,1), each InChannels planes of Positions(phase) in dy's row layout (row stride Width), for the padded rows
    /// [FirstRow, EndRow) and columns [FirstColumn, EndColumn) (the image for zero padding, everything for circular).
    /// </summary>
    public readonly struct Plan
    {
        public Plan(in Conv2dGeometry g)
        {
            bool circular = g.PaddingMode == ConvPadding.Circular;
            FirstRow = circular ? 0 : g.Padding;
            EndRow = circular ? g.Height + 2 * g.Padding : g.Padding + g.Height;
            FirstColumn = circular ? 0 : g.Padding;
            EndColumn = circular ? g.Width + 2 * g.Padding : g.Padding + g.Width;
            Top = (g.KernelHeight + 1) / 2 - 1;
            Left = (g.KernelWidth + 1) / 2 - 1;
            Height = Top + Math.Max(g.OutHeight, (EndRow + 1) / 2);
            Width = Left + Math.Max(g.OutWidth, (EndColumn + 1) / 2);
            Plane = Height * Width;
            // The last position block of a phase reads up to Left + 15 past the last plane (see the summary of the type).
            GradLength = g.OutChannels * Plane + Width + 2 * Lanes;
            int output = 0;
            for (int phase = 0; phase < 4; phase++) output += g.InChannels * Positions(phase);
            OutputLength = output;
        }

        public int FirstRow { get; }
        public int EndRow { get; }
        public int FirstColumn { get; }
        public int EndColumn { get; }
        public int Top { get; }
        public int Left { get; }
        public int Height { get; }
        public int Width { get; }
        public int Plane { get; }
        public int GradLength { get; }
        public int OutputLength { get; }
        public int Workspace => GradLength + OutputLength;

        /// <summary>The first half-row u of row phase a computed: padded row 2u + a is the first of parity a at or after FirstRow.</summary>
        public int FirstHalfRow(int a) => (FirstRow - a + 1) / 2;
        /// <summary>Half-rows of row phase a computed.</summary>
        public int Rows(int a) => (EndRow - a + 1) / 2 - FirstHalfRow(a);
        /// <summary>Positions per channel of a phase (2·a + b): Rows(a)·Width rounded up to whole blocks.</summary>
        public int Positions(int phase) => (Rows(phase >> 1) * Width + Lanes - 1) / Lanes * Lanes;
        /// <summary>Where a phase starts in the output part of the workspace.</summary>
        public int PhaseOffset(int phase, int inChannels)
        {
            int offset = 0;
            for (int p = 0; p < phase; p++) offset += inChannels * Positions(p);
            return offset;
        }
    }

    /// <summary>Kernel taps of phase a along an axis of size k: the i &lt; k with i mod 2 = a.</summary>
    private static int Taps(int kernel, int a) => (kernel - a + 1) / 2;

    /// <summary>Floats of the phase-packed kernel (<see cref="Pack"/>): the weight's, rearranged.</summary>
    public static int KernelLength(in Conv2dGeometry g) => g.OutChannels * g.WeightColumns;

    /// <summary>packed, phase by phase (a, b): [InChannels][OutChannels][k·Taps(KW, b) + l] ← weight[o, c, 2k + a, 2l + b].</summary>
    public static void Pack(in Conv2dGeometry g, float* weight, long ldw, float* packed)
    {
        int kh = g.KernelHeight, kw = g.KernelWidth;
        for (int a = 0; a < 2; a++)
            for (int b = 0; b < 2; b++)
            {
                int rows = Taps(kh, a), cols = Taps(kw, b);
                for (int c = 0; c < g.InChannels; c++)
                    for (int o = 0; o < g.OutChannels; o++)
                    {
                        float* src = weight + o * ldw + (long)c * kh * kw;
                        for (int k = 0; k < rows; k++)
                            for (int l = 0; l < cols; l++) *packed++ = src[(2 * k + a) * kw + 2 * l + b];
                    }
            }
    }

    /// <summary>grad ← dy (OutChannels × OutHeight × OutWidth) at row Top, column Left of zero-bordered planes; zeros after the last.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Place(in Conv2dGeometry g, in Plan plan, float* dy, float* grad)
    {
        int oh = g.OutHeight, ow = g.OutWidth, width = plan.Width;
        for (int o = 0; o < g.OutChannels; o++)
        {
            float* src = dy + (long)o * oh * ow, dst = grad + (long)o * plan.Plane;
            new Span<float>(dst, plan.Top * width).Clear();
            for (int r = 0; r < oh; r++)
            {
                float* d = dst + (plan.Top + r) * width;
                new Span<float>(d, plan.Left).Clear();
                new ReadOnlySpan<float>(src + r * ow, ow).CopyTo(new Span<float>(d + plan.Left, ow));
                new Span<float>(d + plan.Left + ow, width - plan.Left - ow).Clear();
            }
            new Span<float>(dst + (plan.Top + oh) * width, (plan.Height - plan.Top - oh) * width).Clear();
        }
        new Span<float>(grad + (long)g.OutChannels * plan.Plane, plan.GradLength - g.OutChannels * plan.Plane).Clear();
    }

    /// <summary>The four phases of the padded gradient into result (see <see cref="Plan"/>), from dy placed by <see cref="Place"/> and the packed kernel.</summary>
    public static void Phases(in Conv2dGeometry g, in Plan plan, float* grad, float* packed, float* result)
    {
        int* shift = stackalloc int[Taps(g.KernelHeight, 0) * Taps(g.KernelWidth, 0)];
        for (int a = 0; a < 2; a++)
            for (int b = 0; b < 2; b++)
            {
                int rows = Taps(g.KernelHeight, a), cols = Taps(g.KernelWidth, b), taps = rows * cols, phase = 2 * a + b;
                for (int k = 0, t = 0; k < rows; k++)
                    for (int l = 0; l < cols; l++, t++) shift[t] = (plan.Top - k) * plan.Width + plan.Left - l;
                DirectConv.Blocks(grad + plan.FirstHalfRow(a) * plan.Width, g.OutChannels, plan.Plane, shift, taps, plan.Positions(phase),
                    g.InChannels, packed, (long)g.OutChannels * taps, result);
                packed += (long)g.InChannels * g.OutChannels * taps;
                result += (long)g.InChannels * plan.Positions(phase);
            }
    }

    /// <summary>
    /// dx ← the phases interleaved + β·dx (zero padding: the image's rows and columns of the padded gradient; β = 0: dx not
    /// read), or, for circular padding, dx ← β·dx + the whole padded gradient folded back onto the image.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Store(in Conv2dGeometry g, in Plan plan, float* result, float beta, float* dx)
    {
        int h = g.Height, w = g.Width, p = g.Padding, width = plan.Width;
        bool circular = g.PaddingMode == ConvPadding.Circular;
        if (circular) Conv2dNative.Scale(dx, g.InputSize, beta);
        for (int c = 0; c < g.InChannels; c++)
        {
            float* image = dx + (long)c * h * w;
            for (int row = plan.FirstRow; row < plan.EndRow; row++)
            {
                int a = row & 1, half = (row >> 1) - plan.FirstHalfRow(a);
                float* even = result + plan.PhaseOffset(2 * a, g.InChannels) + (long)c * plan.Positions(2 * a) + half * width;
                float* odd = result + plan.PhaseOffset(2 * a + 1, g.InChannels) + (long)c * plan.Positions(2 * a + 1) + half * width;
                if (!circular)
                {
                    Interleave(even, odd, p, w, beta, image + (row - p) * w);
                    continue;
                }
                int y = row - p;
                if (y < 0) y += h;
                else if (y >= h) y -= h;
                float* d = image + y * w;
                for (int column = 0; column < plan.EndColumn; column++)
                {
                    int x = column - p;
                    if (x < 0) x += w;
                    else if (x >= w) x -= w;
                    d[x] += ((column & 1) == 0 ? even : odd)[column >> 1];
                }
            }
        }
    }

    /// <summary>d[x] ← (padded column p + x of the row: even[(p + x)/2] or odd[(p + x)/2]) + β·d[x] for x &lt; n (β = 0: d not read).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Interleave(float* even, float* odd, int p, int n, float beta, float* d)
    {
        // d[2k] = first[k], d[2k + 1] = second[k], where first and second are the phases of columns p and p + 1.
        float* first = (p & 1) == 0 ? even + p / 2 : odd + p / 2;
        float* second = (p & 1) == 0 ? odd + p / 2 : even + (p + 1) / 2;
        int x = 0;
        var vbeta = Vector256.Create(beta);
        for (; x + 16 <= n; x += 16)
        {
            var f = Avx.LoadVector256(first + x / 2);
            var s = Avx.LoadVector256(second + x / 2);
            var lo = Avx.UnpackLow(f, s);   // [f0 s0 f1 s1 | f4 s4 f5 s5]
            var hi = Avx.UnpackHigh(f, s);  // [f2 s2 f3 s3 | f6 s6 f7 s7]
            var v0 = Avx.Permute2x128(lo, hi, 0x20);
            var v1 = Avx.Permute2x128(lo, hi, 0x31);
            if (beta != 0f)
            {
                v0 = Fma.MultiplyAdd(vbeta, Avx.LoadVector256(d + x), v0);
                v1 = Fma.MultiplyAdd(vbeta, Avx.LoadVector256(d + x + 8), v1);
            }
            Avx.Store(d + x, v0);
            Avx.Store(d + x + 8, v1);
        }
        for (; x < n; x++)
        {
            float v = ((x & 1) == 0 ? first : second)[x >> 1];
            d[x] = beta == 0f ? v : v + beta * d[x];
        }
    }

    /// <summary>The input gradient of a batch: samples split across the cores, each part with its own workspace.</summary>
    public struct Samples : IRangeBody
    {
        public Conv2dGeometry G;
        public Plan Plan;
        public int Batch, Parts;
        public float* Workspace, Kernel;
        public RowPointer<float> GradOutput, GradInput;
        public float Beta;

        public readonly void Run(int q0, int q1)
        {
            for (int q = q0; q < q1; q++)
            {
                var (b0, b1) = Conv2dNative.Samples(Batch, q, Parts);
                float* grad = Workspace + (long)q * Plan.Workspace, result = grad + Plan.GradLength;
                for (int b = b0; b < b1; b++)
                {
                    Place(G, Plan, GradOutput[b], grad);
                    Phases(G, Plan, grad, Kernel, result);
                    Store(G, Plan, result, Beta, GradInput[b]);
                }
            }
        }
    }
}
