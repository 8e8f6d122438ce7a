using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace OptEq.Kernels.Native;

/// <summary>
/// Stride-2 float32 convolution and its input gradient as an implicit GEMM on channels-last copies, vectorised along
/// CHANNELS (AVX2 + FMA). The polyphase kernels vectorise along output positions, and at 14 × 14 or 7 × 7 outputs their
/// 16-position blocks waste lanes; here every pixel is one row of the product and the channels are the vector lanes.
/// <para>
/// Forward: the sample is staged padded and channels-last, xT[y][x][c] (zero or wrapped border), the weight packed once
/// per call as wT[(i, j)][c][o] with o contiguous (OutChannels rounded up to whole vectors, the extra lanes zero). Output
/// pixel (r, s) is Σ over kernel rows i of a dot product along the contiguous run xT[2r + i][2s .. 2s + KW)[·] (KW·C
/// floats) with wT's rows for i: each float of the run is broadcast and multiplied into vectors of 8 output channels.
/// </para>
/// <para>
/// Input gradient (the forward map's transpose): padded row 2U + a, column 2V + b of the gradient collects the taps
/// (2k + a, 2l + b): dxp[2U + a][2V + b][c] = Σ_{k,l,o} w[o, c, 2k + a, 2l + b]·dy[o, U − k, V − l]. So each of the four phases (a, b) is the same product over dy staged channels-last (dyT[U][V][o], a zero border of
/// Top rows above and Left columns before so every read is in range), kernel row k reading the run
/// dyT[U − k][V − Lb + 1 .. V][·] against the phase's packed weight [k][l reversed][o][c] (c contiguous).
/// </para>
/// The register block is <see cref="Pixels"/> pixels × 2 vectors of 8 channels (12 accumulators, 2 weight loads and 6
/// broadcasts per 12 FMAs, the GEMM micro-kernel's shape), with a 1-vector block for a last group of 8 channels; each
/// pixel of a block has its own input and output pointer, so a block may cross rows, and a last short block repeats its
/// last pixel. The result, pixel-major, is transposed into NCHW in 8 × 8 tiles with bias and β.
/// </summary>
internal static unsafe class ChannelsLastConv
{
    /// <summary>Pixels per register block.</summary>
    public const int Pixels = 6;

    private static bool Supported =>
        Fma.IsSupported && Avx2.IsSupported && SimdWidth.Current >= VectorWidth.Bits256 && NativeConvolution.Algorithm == NativeConvAlgorithm.Auto;

    /// <summary>
    /// The forward pass: float32 at stride 2 on a CPU with 256-bit vectors and FMA, not narrowed below 256 bits, under
    /// <see cref="NativeConvAlgorithm.Auto"/> (Direct keeps <see cref="PolyphaseConv"/> for comparison), with at least 8
    /// channels each way, or where the polyphase kernel does not apply (one input channel: level with im2col + GEMM;
    /// fewer than 4 output channels: about 2× im2col). One input channel with a kernel of at most 9 taps goes to
    /// <see cref="OneChannelConv"/> first (Conv2dNative.Forward), which writes NCHW directly. Measured (batch 128, one
    /// worker, noisy): with 2 or 4 input channels (a kernel row's run of 6 or 12 floats) or 4 output channels (half of
    /// each vector empty) the polyphase kernel was 10–40 % faster; from 8 channels each way this one was level or up to
    /// 1.5× faster.
    /// </summary>
    public static bool AppliesForward(in Conv2dGeometry g) =>
        g.Stride == 2 && Supported && ((g.InChannels >= 8 && g.OutChannels >= 8) || g.InChannels == 1 || g.OutChannels < 4);

    /// <summary>
    /// The input gradient: as <see cref="AppliesForward"/>, with at least 8 input channels (the gradient's vector lanes). With
    /// 4 input channels it measured 1.6–1.7× slower than the polyphase kernel; from 8 (with 4 to 32 output channels) 1.3–3× faster.
    /// </summary>
    public static bool AppliesBackwardInput(in Conv2dGeometry g) => g.Stride == 2 && g.InChannels >= 8 && Supported;

    /// <summary>Register blocks of <see cref="Pixels"/> over n pixels: the steps a sample's prefetch is spread over.</summary>
    private static int Blocks(int n) => (n + Pixels - 1) / Pixels;

    /// <summary>n rounded up to whole 8-float vectors.</summary>
    private static int Vectors(int n) => (n + 7) & ~7;

    /// <summary>The affine map from a grid of pixels (Rows × Columns, row-major) to input and output pointers.</summary>
    private readonly struct Grid
    {
        public int Rows { get; init; }
        public int Columns { get; init; }
        public float* In { get; init; }
        public long InRow { get; init; }
        public long InColumn { get; init; }
        public float* Out { get; init; }
        public long OutRow { get; init; }
        public long OutColumn { get; init; }
    }

    // ---------------------------------------------------------------- forward

    /// <summary>One sample's workspace for the forward pass: the padded channels-last image, then the pixel-major output.</summary>
    public readonly struct ForwardPlan
    {
        public ForwardPlan(in Conv2dGeometry g)
        {
            PaddedHeight = g.Height + 2 * g.Padding;
            PaddedWidth = g.Width + 2 * g.Padding;
            Width = Vectors(g.OutChannels);
            StagedLength = PaddedHeight * PaddedWidth * g.InChannels;
            Workspace = StagedLength + g.OutPixels * Width;
        }

        public int PaddedHeight { get; }
        public int PaddedWidth { get; }
        /// <summary>OutChannels rounded up to whole vectors: the packed weight's and the output's row length.</summary>
        public int Width { get; }
        public int StagedLength { get; }
        public int Workspace { get; }
    }

    /// <summary>Floats of the packed forward weight: KH·KW·C rows of OutChannels rounded up to whole vectors.</summary>
    public static int ForwardKernelLength(in Conv2dGeometry g) => g.WeightColumns * Vectors(g.OutChannels);

    /// <summary>packed[((i·KW + j)·C + c)·Width + o] ← weight[o, c, i, j]; the lanes past OutChannels zero.</summary>
    public static void PackForward(in Conv2dGeometry g, float* weight, long ldw, float* packed)
    {
        int kh = g.KernelHeight, kw = g.KernelWidth, width = Vectors(g.OutChannels);
        new Span<float>(packed, ForwardKernelLength(g)).Clear();
        for (int o = 0; o < g.OutChannels; o++)
            for (int c = 0; c < g.InChannels; c++)
                for (int i = 0; i < kh; i++)
                    for (int j = 0; j < kw; j++)
                        packed[((long)(i * kw + j) * g.InChannels + c) * width + o] = weight[o * ldw + (c * kh + i) * kw + j];
    }

    /// <summary>staged[y][x][c] ← x[c] padded (zeros, or the image wrapped around), Hp × Wp pixels of C floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Stage(in Conv2dGeometry g, in ForwardPlan plan, float* x, float* staged)
    {
        int h = g.Height, w = g.Width, p = g.Padding, c = g.InChannels, wp = plan.PaddedWidth;
        long row = (long)wp * c;
        StagePlane(x, c, h, w, staged, wp, p, p);
        for (int y = 0; y < h; y++)
        {
            float* d = staged + (y + p) * row;
            if (g.PaddingMode == ConvPadding.Zero)
            {
                new Span<float>(d, p * c).Clear();
                new Span<float>(d + (long)(p + w) * c, p * c).Clear();
            }
            else
            {
                // Wrapped columns: left border column k shows image column w − p + k, right border column k shows column k.
                new Span<float>(d + (long)w * c, p * c).CopyTo(new Span<float>(d, p * c));
                new Span<float>(d + (long)p * c, p * c).CopyTo(new Span<float>(d + (long)(p + w) * c, p * c));
            }
        }
        for (int k = 0; k < p; k++)
        {
            float* top = staged + k * row, bottom = staged + (p + h + k) * row;
            if (g.PaddingMode == ConvPadding.Zero)
            {
                new Span<float>(top, (int)row).Clear();
                new Span<float>(bottom, (int)row).Clear();
            }
            else
            {
                new Span<float>(staged + (h + k) * row, (int)row).CopyTo(new Span<float>(top, (int)row));
                new Span<float>(staged + (p + k) * row, (int)row).CopyTo(new Span<float>(bottom, (int)row));
            }
        }
    }

    /// <summary>result[q·Width + o] for output pixel q from the staged sample and the packed weight.</summary>
    public static void Forward(in Conv2dGeometry g, in ForwardPlan plan, float* staged, float* packed, float* result, float** inputs, float** outputs, ref SamplePrefetch prefetch)
    {
        int c = g.InChannels, kh = g.KernelHeight;
        int* rowOffset = stackalloc int[kh];
        for (int i = 0; i < kh; i++) rowOffset[i] = i * plan.PaddedWidth * c;
        var grid = new Grid
        {
            Rows = g.OutHeight, Columns = g.OutWidth,
            In = staged, InRow = 2L * plan.PaddedWidth * c, InColumn = 2L * c,
            Out = result, OutRow = (long)g.OutWidth * plan.Width, OutColumn = plan.Width,
        };
        Run(grid, rowOffset, kh, g.KernelWidth * c, packed, plan.Width, inputs, outputs, ref prefetch);
    }

    /// <summary>
    /// The forward pass of a batch, each part with its own workspace, taking samples one at a time from a shared counter
    /// (claiming the next before it works on the current, so that it can prefetch it): a core slowed by another process
    /// takes fewer samples instead of holding the call. Samples are independent, so the result does not depend on who
    /// takes which.
    /// </summary>
    public struct ForwardSamples : IRangeBody
    {
        public Conv2dGeometry G;
        public ForwardPlan Plan;
        public int Batch;
        public float* Workspace, Kernel, Bias;
        public RowPointer<float> Input, Output;
        public float Beta;

        public int* NextSample;

        public readonly void Run(int q0, int q1)
        {
            float** inputs = stackalloc float*[Pixels];
            float** outputs = stackalloc float*[Pixels];
            for (int q = q0; q < q1; q++)
            {
                float* staged = Workspace + (long)q * Plan.Workspace, result = staged + Plan.StagedLength;
                for (int b = Conv2dNative.ClaimSample(NextSample); b < Batch;)
                {
                    int after = Conv2dNative.ClaimSample(NextSample);
                    var next = new SamplePrefetch(Output[b], G.OutputSize, after < Batch ? Input[after] : null, G.InputSize, Blocks(G.OutPixels));
                    Stage(G, Plan, Input[b], staged);
                    Forward(G, Plan, staged, Kernel, result, inputs, outputs, ref next);
                    Transpose(result, Plan.Width, G.OutPixels, G.OutChannels, Output[b], G.OutPixels, Bias, Beta);
                    b = after;
                }
            }
        }
    }

    // ---------------------------------------------------------------- input gradient

    /// <summary>Kernel taps of phase a along an axis of size k: the i &lt; k with i mod 2 = a.</summary>
    private static int Taps(int kernel, int a) => (kernel - a + 1) / 2;

    /// <summary>
    /// One sample's workspace for the input gradient: dy channels-last in a zero-bordered grid (Top rows above, Left
    /// columns before), then the padded gradient pixel-major over rows [FirstRow, EndRow) and columns [FirstColumn,
    /// EndColumn) of the padded image (the image for zero padding, everything for circular), C rounded up to vectors.
    /// </summary>
    public readonly struct BackwardPlan
    {
        public BackwardPlan(in Conv2dGeometry g)
        {
            bool circular = g.PaddingMode == ConvPadding.Circular;
            FirstRow = circular ? 0 : g.Padding;
            EndRow = circular ? g.Height + 2 * g.Padding : g.Padding + g.Height;
            FirstColumn = circular ? 0 : g.Padding;
            EndColumn = circular ? g.Width + 2 * g.Padding : g.Padding + g.Width;
            Top = (g.KernelHeight + 1) / 2 - 1;
            Left = (g.KernelWidth + 1) / 2 - 1;
            GridHeight = Top + Math.Max(g.OutHeight, (EndRow + 1) / 2);
            GridWidth = Left + Math.Max(g.OutWidth, (EndColumn + 1) / 2);
            Width = Vectors(g.InChannels);
            StagedLength = GridHeight * GridWidth * g.OutChannels;
            Workspace = StagedLength + (EndRow - FirstRow) * (EndColumn - FirstColumn) * Width;
        }

        public int FirstRow { get; }
        public int EndRow { get; }
        public int FirstColumn { get; }
        public int EndColumn { get; }
        public int Top { get; }
        public int Left { get; }
        public int GridHeight { get; }
        public int GridWidth { get; }
        /// <summary>InChannels rounded up to whole vectors: the packed weight's and the gradient's row length.</summary>
        public int Width { get; }
        public int StagedLength { get; }
        public int Workspace { get; }
    }

    /// <summary>Floats of the packed input-gradient weight: the four phases' taps, each O rows of InChannels rounded up to vectors.</summary>
    public static int BackwardKernelLength(in Conv2dGeometry g) => g.KernelHeight * g.KernelWidth * g.OutChannels * Vectors(g.InChannels);

    /// <summary>
    /// packed, phase by phase (a, b), Ka = Taps(KH, a) by Lb = Taps(KW, b) taps: [k][Lb − 1 − l][o][c] ← weight[o, c, 2k + a, 2l + b]
    /// (l reversed so that a kernel row reads dy's run left to right); the lanes past InChannels zero.
    /// </summary>
    public static void PackBackward(in Conv2dGeometry g, float* weight, long ldw, float* packed)
    {
        int kh = g.KernelHeight, kw = g.KernelWidth, width = Vectors(g.InChannels);
        new Span<float>(packed, BackwardKernelLength(g)).Clear();
        for (int a = 0; a < 2; a++)
            for (int b = 0; b < 2; b++)
            {
                int rows = Taps(kh, a), cols = Taps(kw, b);
                for (int k = 0; k < rows; k++)
                    for (int l = 0; l < cols; l++)
                        for (int o = 0; o < g.OutChannels; o++)
                        {
                            float* dst = packed + ((long)(k * cols + cols - 1 - l) * g.OutChannels + o) * width;
                            for (int c = 0; c < g.InChannels; c++) dst[c] = weight[o * ldw + (c * kh + 2 * k + a) * kw + 2 * l + b];
                        }
                packed += (long)rows * cols * g.OutChannels * width;
            }
    }

    /// <summary>staged[Top + u][Left + v][o] ← dy[o, u, v]; the rest of the grid zeros.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void StageGradient(in Conv2dGeometry g, in BackwardPlan plan, float* dy, float* staged)
    {
        new Span<float>(staged, plan.StagedLength).Clear();
        StagePlane(dy, g.OutChannels, g.OutHeight, g.OutWidth, staged, plan.GridWidth, plan.Top, plan.Left);
    }

    /// <summary>
    /// grid[(top + y)·gridWidth + left + x][c] ← src[c, y, x] (channels planes of height × width) for the whole image, in
    /// 8 × 8 tiles of 8 channels by 8 pixels of one row: the last tile of a row ends at its last pixel (overlapping the
    /// one before it, which writes the same values twice), and a row narrower than 8 is one tile of masked loads. The
    /// channels past the last whole group of 8 are copied one by one.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void StagePlane(float* src, int channels, int height, int width, float* grid, int gridWidth, int top, int left)
    {
        int pixels = height * width, c0 = 0;
        if (channels == 1)
        {
            for (int y = 0; y < height; y++)
                new ReadOnlySpan<float>(src + (long)y * width, width).CopyTo(new Span<float>(grid + (long)(top + y) * gridWidth + left, width));
            return;
        }
        // By rows, so that a tile's destinations are one stride apart. Runs of 8 pixels across rows needed 8 destination
        // pointers per tile with a row wrap among them; at 32 × 14 × 14 that staging took 18 % of the stride-2 forward (perf).
        for (; c0 + 8 <= channels; c0 += 8)
            for (int y = 0; y < height; y++)
            {
                float* from = src + (long)c0 * pixels + (long)y * width;
                float* to = grid + ((long)(top + y) * gridWidth + left) * channels + c0;
                if (width < 8)
                {
                    TileToStrided(from, pixels, to, channels, width);
                    continue;
                }
                for (int x = 0; ; x += 8)
                {
                    if (x > width - 8) x = width - 8;
                    TileToStrided(from + x, pixels, to + (long)x * channels, channels, 8);
                    if (x == width - 8) break;
                }
            }
        if (c0 == channels) return;
        for (int y = 0; y < height; y++)
        {
            float* d = grid + ((long)(top + y) * gridWidth + left) * channels;
            for (int x = 0; x < width; x++, d += channels)
                for (int c = c0; c < channels; c++) d[c] = src[(long)c * pixels + y * width + x];
        }
    }

    /// <summary>result ← the padded gradient over the plan's rows and columns, pixel-major (Width floats a pixel), phase by phase.</summary>
    public static void Phases(in Conv2dGeometry g, in BackwardPlan plan, float* staged, float* packed, float* result, float** inputs, float** outputs, ref SamplePrefetch prefetch)
    {
        int o = g.OutChannels, columns = plan.EndColumn - plan.FirstColumn;
        int* rowOffset = stackalloc int[Taps(g.KernelHeight, 0)];
        for (int a = 0; a < 2; a++)
            for (int b = 0; b < 2; b++)
            {
                int rows = Taps(g.KernelHeight, a), cols = Taps(g.KernelWidth, b);
                for (int k = 0; k < rows; k++) rowOffset[k] = (-k * plan.GridWidth - (cols - 1)) * o;
                // The half-rows u (padded row 2u + a) and half-columns v in [First, End).
                int u0 = (plan.FirstRow - a + 1) / 2, u1 = (plan.EndRow - a + 1) / 2;
                int v0 = (plan.FirstColumn - b + 1) / 2, v1 = (plan.EndColumn - b + 1) / 2;
                var grid = new Grid
                {
                    Rows = u1 - u0, Columns = v1 - v0,
                    In = staged + ((long)(plan.Top + u0) * plan.GridWidth + plan.Left + v0) * o, InRow = (long)plan.GridWidth * o, InColumn = o,
                    Out = result + ((long)(2 * u0 + a - plan.FirstRow) * columns + 2 * v0 + b - plan.FirstColumn) * plan.Width,
                    OutRow = 2L * columns * plan.Width, OutColumn = 2L * plan.Width,
                };
                Run(grid, rowOffset, rows, cols * o, packed, plan.Width, inputs, outputs, ref prefetch);
                packed += (long)rows * cols * o * plan.Width;
            }
    }

    /// <summary>
    /// dx ← the gradient's image part transposed into NCHW + β·dx (β = 0: dx not read); for circular padding the border of
    /// the padded gradient is first folded onto the image pixels it wrapped (the transpose of wrapping).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Store(in Conv2dGeometry g, in BackwardPlan plan, float* result, float beta, float* dx)
    {
        int h = g.Height, w = g.Width, p = g.Padding, width = plan.Width, hw = h * w;
        if (g.PaddingMode == ConvPadding.Zero)
        {
            Transpose(result, width, hw, g.InChannels, dx, hw, null, beta);
            return;
        }
        int wp = w + 2 * p;
        for (int row = 0; row < h + 2 * p; row++)
        {
            int y = row < p ? row + h : row >= p + h ? row - h : row;
            bool rowInside = y == row;
            for (int column = 0; column < wp; column++)
            {
                int x = column < p ? column + w : column >= p + w ? column - w : column;
                if (rowInside && x == column) continue;
                Add(result + ((long)row * wp + column) * width, result + ((long)y * wp + x) * width, width);
            }
        }
        for (int y = 0; y < h; y++)
            Transpose(result + ((long)(y + p) * wp + p) * width, width, w, g.InChannels, dx + (long)y * w, hw, null, beta);
    }

    /// <summary>y[0..n) += x[0..n), n a multiple of 8.</summary>
    private static void Add(float* x, float* y, int n)
    {
        for (int k = 0; k < n; k += 8) Avx.Store(y + k, Avx.Add(Avx.LoadVector256(y + k), Avx.LoadVector256(x + k)));
    }

    /// <summary>The input gradient of a batch, each part with its own workspace, taking samples as <see cref="ForwardSamples"/> does.</summary>
    public struct BackwardInputSamples : IRangeBody
    {
        public Conv2dGeometry G;
        public BackwardPlan Plan;
        public int Batch;
        public float* Workspace, Kernel;
        public RowPointer<float> GradOutput, GradInput;
        public float Beta;

        public int* NextSample;

        public readonly void Run(int q0, int q1)
        {
            float** inputs = stackalloc float*[Pixels];
            float** outputs = stackalloc float*[Pixels];
            for (int q = q0; q < q1; q++)
            {
                float* staged = Workspace + (long)q * Plan.Workspace, result = staged + Plan.StagedLength;
                for (int b = Conv2dNative.ClaimSample(NextSample); b < Batch;)
                {
                    int after = Conv2dNative.ClaimSample(NextSample);
                    var next = new SamplePrefetch(GradInput[b], G.InputSize, after < Batch ? GradOutput[after] : null, G.OutputSize,
                        Blocks((Plan.EndRow - Plan.FirstRow) * (Plan.EndColumn - Plan.FirstColumn)));
                    StageGradient(G, Plan, GradOutput[b], staged);
                    Phases(G, Plan, staged, Kernel, result, inputs, outputs, ref next);
                    Store(G, Plan, result, Beta, GradInput[b]);
                    b = after;
                }
            }
        }
    }

    // ---------------------------------------------------------------- the product

    /// <summary>
    /// For every pixel of the grid and every vector of the width output channels: out[pixel][o] = Σ_r Σ_{k &lt; run}
    /// in[pixel][rowOffset[r] + k]·weight[(r·run + k)·width + o]. Inputs and outputs: scratch for <see cref="Pixels"/> pointers.
    /// <para>
    /// The pixels are covered exactly by blocks of 6 and 5 where they can be (any count from 20 on): a 7 × 7 output has
    /// 49 pixels, and 6-pixel blocks alone spent a ninth of the products on a last block of one pixel repeated. A
    /// 5-pixel block does nearly as many FMAs per load as a 6-pixel one (10 per 7 loads against 12 per 8). Below that the last 6-pixel block
    /// repeats its last pixel.
    /// </para>
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run(in Grid grid, int* rowOffset, int rows, int run, float* weight, int width, float** inputs, float** outputs, ref SamplePrefetch prefetch)
    {
        int columns = grid.Columns, n = grid.Rows * columns, r = 0, s = 0;
        int blocks = Blocks(n), fives = Pixels * blocks - n;
        if (fives > blocks) fives = 0;
        for (int block = 0, p0 = 0; block < blocks; block++)
        {
            int count = block < blocks - fives ? Pixels : Pixels - 1;
            for (int t = 0; t < count; t++)
            {
                inputs[t] = grid.In + r * grid.InRow + s * grid.InColumn;
                outputs[t] = grid.Out + r * grid.OutRow + s * grid.OutColumn;
                // Past the last pixel the block repeats it.
                if (p0 + t + 1 < n && ++s == columns) { s = 0; r++; }
            }
            p0 += count;
            prefetch.Step();
            int o = 0;
            if (count == Pixels)
            {
                for (; o + 16 <= width; o += 16) Block16<BlockOfSix>(inputs, outputs, o, rowOffset, rows, run, weight + o, width);
                if (o < width) Block8<BlockOfSix>(inputs, outputs, o, rowOffset, rows, run, weight + o, width);
            }
            else
            {
                for (; o + 16 <= width; o += 16) Block16<BlockOfFive>(inputs, outputs, o, rowOffset, rows, run, weight + o, width);
                if (o < width) Block8<BlockOfFive>(inputs, outputs, o, rowOffset, rows, run, weight + o, width);
            }
        }
    }

    /// <summary>6 (or 5) pixels × 16 output channels: 12 accumulators, per input float 2 weight loads, 6 broadcasts, 12 FMAs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block16<TPixels>(float** inputs, float** outputs, int o, int* rowOffset, int rows, int run, float* weight, int width)
        where TPixels : struct, IBlockSize
    {
        Vector256<float> a0 = default, a1 = default, b0 = default, b1 = default, c0 = default, c1 = default;
        Vector256<float> d0 = default, d1 = default, e0 = default, e1 = default, f0 = default, f1 = default;
        float* x0 = inputs[0], x1 = inputs[1], x2 = inputs[2], x3 = inputs[3], x4 = inputs[4], x5 = TPixels.Count > 5 ? inputs[5] : null;
        for (int r = 0; r < rows; r++)
        {
            int offset = rowOffset[r];
            float* p0 = x0 + offset, p1 = x1 + offset, p2 = x2 + offset, p3 = x3 + offset, p4 = x4 + offset, p5 = x5 + offset;
            float* w = weight + (long)r * run * width;
            for (int k = 0; k < run; k++, w += width)
            {
                var w0 = Avx.LoadVector256(w);
                var w1 = Avx.LoadVector256(w + 8);
                var v = Avx.BroadcastScalarToVector256(p0 + k);
                a0 = Fma.MultiplyAdd(v, w0, a0); a1 = Fma.MultiplyAdd(v, w1, a1);
                v = Avx.BroadcastScalarToVector256(p1 + k);
                b0 = Fma.MultiplyAdd(v, w0, b0); b1 = Fma.MultiplyAdd(v, w1, b1);
                v = Avx.BroadcastScalarToVector256(p2 + k);
                c0 = Fma.MultiplyAdd(v, w0, c0); c1 = Fma.MultiplyAdd(v, w1, c1);
                v = Avx.BroadcastScalarToVector256(p3 + k);
                d0 = Fma.MultiplyAdd(v, w0, d0); d1 = Fma.MultiplyAdd(v, w1, d1);
                v = Avx.BroadcastScalarToVector256(p4 + k);
                e0 = Fma.MultiplyAdd(v, w0, e0); e1 = Fma.MultiplyAdd(v, w1, e1);
                if (TPixels.Count > 5)
                {
                    v = Avx.BroadcastScalarToVector256(p5 + k);
                    f0 = Fma.MultiplyAdd(v, w0, f0); f1 = Fma.MultiplyAdd(v, w1, f1);
                }
            }
        }
        float* y = outputs[0] + o; Avx.Store(y, a0); Avx.Store(y + 8, a1);
        y = outputs[1] + o; Avx.Store(y, b0); Avx.Store(y + 8, b1);
        y = outputs[2] + o; Avx.Store(y, c0); Avx.Store(y + 8, c1);
        y = outputs[3] + o; Avx.Store(y, d0); Avx.Store(y + 8, d1);
        y = outputs[4] + o; Avx.Store(y, e0); Avx.Store(y + 8, e1);
        if (TPixels.Count > 5)
        {
            y = outputs[5] + o; Avx.Store(y, f0); Avx.Store(y + 8, f1);
        }
    }

    /// <summary>6 (or 5) pixels × 8 output channels: the last group of 8 when the width is not a multiple of 16.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block8<TPixels>(float** inputs, float** outputs, int o, int* rowOffset, int rows, int run, float* weight, int width)
        where TPixels : struct, IBlockSize
    {
        Vector256<float> a = default, b = default, c = default, d = default, e = default, f = default;
        float* x0 = inputs[0], x1 = inputs[1], x2 = inputs[2], x3 = inputs[3], x4 = inputs[4], x5 = TPixels.Count > 5 ? inputs[5] : null;
        for (int r = 0; r < rows; r++)
        {
            int offset = rowOffset[r];
            float* p0 = x0 + offset, p1 = x1 + offset, p2 = x2 + offset, p3 = x3 + offset, p4 = x4 + offset, p5 = x5 + offset;
            float* w = weight + (long)r * run * width;
            for (int k = 0; k < run; k++, w += width)
            {
                var w0 = Avx.LoadVector256(w);
                a = Fma.MultiplyAdd(Avx.BroadcastScalarToVector256(p0 + k), w0, a);
                b = Fma.MultiplyAdd(Avx.BroadcastScalarToVector256(p1 + k), w0, b);
                c = Fma.MultiplyAdd(Avx.BroadcastScalarToVector256(p2 + k), w0, c);
                d = Fma.MultiplyAdd(Avx.BroadcastScalarToVector256(p3 + k), w0, d);
                e = Fma.MultiplyAdd(Avx.BroadcastScalarToVector256(p4 + k), w0, e);
                if (TPixels.Count > 5) f = Fma.MultiplyAdd(Avx.BroadcastScalarToVector256(p5 + k), w0, f);
            }
        }
        Avx.Store(outputs[0] + o, a); Avx.Store(outputs[1] + o, b); Avx.Store(outputs[2] + o, c);
        Avx.Store(outputs[3] + o, d); Avx.Store(outputs[4] + o, e);
        if (TPixels.Count > 5) Avx.Store(outputs[5] + o, f);
    }

    // ---------------------------------------------------------------- layout

    /// <summary>
    /// dst[j·ldd + i] ← src[i·lds + j] (+ bias[j] where bias is not null) + β·dst[j·ldd + i] for i &lt; rows, j &lt; cols
    /// (β = 0: dst not read, so NaN there does not survive), in 8 × 8 tiles of AVX shuffles. The rows of src must be
    /// readable up to cols rounded up to whole vectors (the padded lanes of a result row), so a last group of fewer than 8
    /// columns is still one tile, of which only the first rows are stored.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Transpose(float* src, long lds, int rows, int cols, float* dst, long ldd, float* bias, float beta)
    {
        int i = 0;
        for (; i + 8 <= rows; i += 8)
            for (int j = 0; j < cols; j += 8)
                Tile(src + i * lds + j, lds, dst + j * ldd + i, ldd, bias == null ? null : bias + j, beta, Math.Min(8, cols - j));
        for (; i < rows; i++)
            for (int j = 0; j < cols; j++) Put(src[i * lds + j], bias, j, beta, dst + j * ldd + i);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(float value, float* bias, int j, float beta, float* d)
    {
        if (bias != null) value += bias[j];
        *d = beta == 0f ? value : value + beta * *d;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile(float* src, long lds, float* dst, long ldd, float* bias, float beta, int count)
    {
        var r0 = Avx.LoadVector256(src); var r1 = Avx.LoadVector256(src + lds);
        var r2 = Avx.LoadVector256(src + 2 * lds); var r3 = Avx.LoadVector256(src + 3 * lds);
        var r4 = Avx.LoadVector256(src + 4 * lds); var r5 = Avx.LoadVector256(src + 5 * lds);
        var r6 = Avx.LoadVector256(src + 6 * lds); var r7 = Avx.LoadVector256(src + 7 * lds);
        Transpose8x8.InRegisters(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7);
        Emit(r0, bias, 0, beta, dst);
        if (count > 1) Emit(r1, bias, 1, beta, dst + ldd);
        if (count > 2) Emit(r2, bias, 2, beta, dst + 2 * ldd);
        if (count > 3) Emit(r3, bias, 3, beta, dst + 3 * ldd);
        if (count > 4) Emit(r4, bias, 4, beta, dst + 4 * ldd);
        if (count > 5) Emit(r5, bias, 5, beta, dst + 5 * ldd);
        if (count > 6) Emit(r6, bias, 6, beta, dst + 6 * ldd);
        if (count > 7) Emit(r7, bias, 7, beta, dst + 7 * ldd);
    }

    /// <summary>
    /// dst[j·ldd + k] ← src[k·lds + j] for j &lt; count, k &lt; 8: the transposed tile's rows one stride apart. With
    /// count &lt; 8 the loads are masked, so nothing past src's first count columns is read.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TileToStrided(float* src, long lds, float* dst, long ldd, int count)
    {
        Vector256<float> r0, r1, r2, r3, r4, r5, r6, r7;
        if (count == 8)
        {
            r0 = Avx.LoadVector256(src); r1 = Avx.LoadVector256(src + lds);
            r2 = Avx.LoadVector256(src + 2 * lds); r3 = Avx.LoadVector256(src + 3 * lds);
            r4 = Avx.LoadVector256(src + 4 * lds); r5 = Avx.LoadVector256(src + 5 * lds);
            r6 = Avx.LoadVector256(src + 6 * lds); r7 = Avx.LoadVector256(src + 7 * lds);
        }
        else
        {
            var mask = Avx2.CompareGreaterThan(Vector256.Create(count), Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7)).AsSingle();
            r0 = Avx.MaskLoad(src, mask); r1 = Avx.MaskLoad(src + lds, mask);
            r2 = Avx.MaskLoad(src + 2 * lds, mask); r3 = Avx.MaskLoad(src + 3 * lds, mask);
            r4 = Avx.MaskLoad(src + 4 * lds, mask); r5 = Avx.MaskLoad(src + 5 * lds, mask);
            r6 = Avx.MaskLoad(src + 6 * lds, mask); r7 = Avx.MaskLoad(src + 7 * lds, mask);
        }
        Transpose8x8.InRegisters(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7);
        Avx.Store(dst, r0);
        if (count > 1) Avx.Store(dst + ldd, r1);
        if (count > 2) Avx.Store(dst + 2 * ldd, r2);
        if (count > 3) Avx.Store(dst + 3 * ldd, r3);
        if (count > 4) Avx.Store(dst + 4 * ldd, r4);
        if (count > 5) Avx.Store(dst + 5 * ldd, r5);
        if (count > 6) Avx.Store(dst + 6 * ldd, r6);
        if (count > 7) Avx.Store(dst + 7 * ldd, r7);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Emit(Vector256<float> v, float* bias, int j, float beta, float* d)
    {
        if (bias != null) v = Avx.Add(v, Vector256.Create(bias[j]));
        if (beta != 0f) v = Fma.MultiplyAdd(Vector256.Create(beta), Avx.LoadVector256(d), v);
        Avx.Store(d, v);
    }
}
