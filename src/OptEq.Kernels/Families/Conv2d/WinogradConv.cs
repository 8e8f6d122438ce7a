using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace OptEq.Kernels.Native;

/// <summary>
/// Winograd F(2×2, 3×3) float32 convolution at stride 1 with AVX2 + FMA (Lavin &amp; Gray 2016; docs/kernels.md). The
/// output is cut into 2×2 tiles; tile t of channel o is Aᵀ[Σ_c U_oc ⊙ V_ct]A with U = G w Gᵀ (4×4 per kernel) and
/// V = Bᵀ d B (4×4 per 4×4 input patch), so each of the 16 transformed positions ξ is one product U[ξ]·V[ξ] of a
/// [Cout × Cin] by a [Cin × tiles] matrix: 16·Cin·Cout multiply-adds per 4 outputs instead of 36·Cin·Cout, 2.25× fewer.
/// The weight gradient runs the same transforms backwards: dU[ξ] = Σ_tiles Ĝ[ξ]·V[ξ]ᵀ with Ĝ = A dY Aᵀ, then
/// dw = Gᵀ dU G. Rounding: the transforms add and subtract neighbouring values of the 4×4 patch, so the error of an
/// output is relative to the magnitudes over its tile's 4×4 patch, not only its own 3×3 window.
/// Every loop is compiled fully optimised at its first call (AggressiveOptimization): intrinsics code run unoptimised
/// first is several times slower, and a solver calls it only a few dozen times per batch.
/// Samples are split across the cores; each core walks its samples' tile rows in chunks sized to stay in the L2 cache:
/// transform the chunk's inputs, 16 register-blocked products, transform back and store.
/// </summary>
internal static unsafe class WinogradConv
{
    /// <summary>Transformed positions per tile (4 × 4).</summary>
    private const int Xi = 16;
    /// <summary>Output channels per register block of the products.</summary>
    private const int OBlock = 4;
    /// <summary>
    /// Below this many input channels the transforms cost more than the products save (a one-channel input convolution
    /// does 16 multiply-adds per tile against ~30 vector operations of transforms): the direct kernel runs instead.
    /// </summary>
    private const int MinInChannels = 4;
    /// <summary>Bytes of V and M per chunk of the forward pass (16 transformed planes each): three quarters of a 512 KiB L2, the rest for U and the padded image.</summary>
    private const int ForwardChunkBytes = 384 * 1024;
    /// <summary>
    /// Bytes of V and Ĝ per chunk of the weight gradient: its products are dot products along the chunk's tiles, summed
    /// across lanes once per chunk, so longer chunks pay that less often; one ξ's pair of panels still fits in L2.
    /// </summary>
    private const int WeightChunkBytes = 1024 * 1024;

    /// <summary>
    /// float32, 3×3 kernel, stride 1, at least 4 input and 4 output channels, on a CPU with AVX2 + FMA not narrowed below
    /// 256 bits, when <see cref="NativeConvolution.Algorithm"/> is Auto.
    /// </summary>
    public static bool Applies(in Conv2dGeometry g) =>
        g is { Stride: 1, KernelHeight: 3, KernelWidth: 3 } && g.InChannels >= MinInChannels && g.OutChannels >= OBlock
        && Fma.IsSupported && Avx2.IsSupported && SimdWidth.Current >= VectorWidth.Bits256 && NativeConvolution.Algorithm == NativeConvAlgorithm.Auto;

    /// <summary>The tiling of one geometry and the sizes of each core's workspace.</summary>
    private readonly struct Plan
    {
        public Plan(in Conv2dGeometry g, int batch, int parts, int chunkBytes)
        {
            OutChannels4 = (g.OutChannels + OBlock - 1) / OBlock * OBlock;
            TilesHigh = (g.OutHeight + 1) / 2;
            TilesWide = (g.OutWidth + 1) / 2;
            Half = TilesWide + 1;
            RowStride = 2 * Half;
            Rows = 2 * TilesHigh + 2;
            Plane = Rows * RowStride;
            // Vector loads of a row's odd half read up to 8 past it, and each staged row is built in whole 16-float blocks.
            StagedRow = (RowStride + 15) / 16 * 16 + 16;
            RowBuffer = Rows * StagedRow;
            PaddedLength = g.InChannels * Plane + RowBuffer + 16;
            int rowsPerPart = (batch + parts - 1) / parts * TilesHigh;
            RowsPerChunk = ChooseRows(TilesWide, chunkBytes / (Xi * sizeof(float) * (g.InChannels + OutChannels4)), rowsPerPart);
            // A tile row is stored in whole vectors of 8 tiles: the last one of a chunk spills up to 7 columns past it.
            Ld = (RowsPerChunk * TilesWide + 7) / 8 * 8 + 8;
            VPlane = Staggered((long)g.InChannels * Ld);
            MPlane = Staggered((long)OutChannels4 * Ld);
            TransformLength = Xi * VPlane;
            ProductLength = Xi * MPlane;
            PartLength = PaddedLength + TransformLength + ProductLength;
            Parts = parts;
        }

        public int OutChannels4 { get; }
        public int TilesHigh { get; }
        public int TilesWide { get; }
        /// <summary>Even (and odd) columns per padded row: the row is stored deinterleaved, even columns then odd ones.</summary>
        public int Half { get; }
        public int RowStride { get; }
        /// <summary>Padded rows per channel: every tile's 4 rows, zeros below the image where OutHeight is odd.</summary>
        public int Rows { get; }
        public int Plane { get; }
        /// <summary>Floats per row of the staging buffer of <see cref="Pad"/>, which holds a channel's padded rows before their split.</summary>
        public int StagedRow { get; }
        public int RowBuffer { get; }
        public int PaddedLength { get; }
        public int RowsPerChunk { get; }
        /// <summary>Columns of each transformed plane (V[ξ][c][·], M[ξ][o][·]).</summary>
        public int Ld { get; }
        /// <summary>Floats from one transformed plane to the next (V[ξ] to V[ξ + 1]; M likewise).</summary>
        public long VPlane { get; }
        public long MPlane { get; }
        public long TransformLength { get; }
        public long ProductLength { get; }
        public long PartLength { get; }
        public int Parts { get; }
    }

    /// <summary>
    /// A plane stride of at least <paramref name="floats"/>, an odd number of cache lines (16 floats each): the output
    /// transform reads, and the input transform writes, the same column of all 16 planes together, and planes a multiple
    /// of 4 KiB apart (or of 1 KiB, as 32 channels × 104 columns is) fall into the same few sets of the L1 cache.
    /// </summary>
    private static long Staggered(long floats)
    {
        long lines = (floats + 15) / 16;
        return (lines % 2 == 0 ? lines + 1 : lines) * 16;
    }

    /// <summary>
    /// Tile rows per chunk: at most <paramref name="budget"/> tiles (at least one row), the count whose product columns
    /// cost least per tile: columns go in 24-wide blocks and a tail of 8-wide ones, which run at about half the rate
    /// (4 accumulators cannot hide the FMA latency).
    /// </summary>
    private static int ChooseRows(int tilesWide, int budget, int maxRows)
    {
        int most = Math.Clamp(budget / tilesWide, 1, Math.Max(1, maxRows));
        int best = most;
        double bestCost = double.MaxValue;
        for (int r = most; r >= Math.Max(1, most / 3); r--)
        {
            int tiles = r * tilesWide, columns = (tiles + 7) / 8 * 8, tail = columns % 24;
            double cost = (columns - tail + 2.0 * tail) / tiles;
            if (cost < bestCost - 1e-9) { bestCost = cost; best = r; }
        }
        return best;
    }

    // ---------------------------------------------------------------- entries

    /// <summary>output ← conv(input, weight) + bias + β·output, every sample; workspace from the device pool.</summary>
    public static void Forward(Device device, in Conv2dGeometry g, int batch, RowPointer<float> input, float* weight, long ldw, float* bias, RowPointer<float> output, float beta)
    {
        int parts = Math.Max(1, Math.Min(batch, NativeParallel.Workers));
        var plan = new Plan(g, batch, parts, ForwardChunkBytes);
        long uLength = (long)Xi * plan.OutChannels4 * g.InChannels;
        var workspace = device.Pool.Rent<float>(checked((int)(uLength + parts * plan.PartLength)));
        float* u = (float*)MatrixView<float>.Of(workspace).Ptr();
        TransformWeights(g, plan, weight, ldw, u);
        NativeParallel.For(parts, (long)g.OutputSize * g.WeightColumns * batch / parts, new ForwardParts
        {
            G = g, Plan = plan, Batch = batch, U = u, Workspace = u + uLength, Input = input, Bias = bias, Output = output, Beta = beta,
        });
        device.Pool.Return(workspace);
    }

    /// <summary>gradWeight ← Σ_b ∂/∂w + β·gradWeight; each core sums its samples' dU, the sums are added and transformed back once.</summary>
    public static void BackwardWeight(Device device, in Conv2dGeometry g, int batch, RowPointer<float> input, RowPointer<float> gradOutput, float* gradWeight, long ldw, float beta)
    {
        int parts = Math.Max(1, Math.Min(batch, NativeParallel.Workers));
        var plan = new Plan(g, batch, parts, WeightChunkBytes);
        long duLength = (long)Xi * plan.OutChannels4 * g.InChannels;
        var workspace = device.Pool.Rent<float>(checked((int)(parts * (plan.PartLength + duLength))));
        float* work = (float*)MatrixView<float>.Of(workspace).Ptr();
        float* du = work + parts * plan.PartLength;
        NativeParallel.For(parts, (long)g.OutputSize * g.WeightColumns * batch / parts, new WeightParts
        {
            G = g, Plan = plan, Batch = batch, Workspace = work, DU = du, DULength = duLength, Input = input, GradOutput = gradOutput,
        });
        for (int q = 1; q < parts; q++)
        {
            float* src = du + q * duLength;
            for (long i = 0; i < duLength; i++) du[i] += src[i];
        }
        TransformWeightGradient(g, plan, du, gradWeight, ldw, beta);
        device.Pool.Return(workspace);
    }

    // ---------------------------------------------------------------- per core

    private struct ForwardParts : IRangeBody
    {
        public Conv2dGeometry G;
        public Plan Plan;
        public int Batch;
        public float* U, Workspace, Bias;
        public RowPointer<float> Input, Output;
        public float Beta;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Run(int q0, int q1)
        {
            for (int q = q0; q < q1; q++)
            {
                var ws = new PartWorkspace(Plan, Workspace + q * Plan.PartLength);
                var (b0, b1) = Conv2dNative.Samples(Batch, q, Plan.Parts);
                var rows = new TileRows(Plan, b0, b1);
                int padded = -1;
                while (rows.Next(out int first, out int count))
                {
                    TransformInputs(G, Plan, Input, rows, first, count, ws, ref padded);
                    int columns = (count * Plan.TilesWide + 7) / 8 * 8;
                    for (int xi = 0; xi < Xi; xi++)
                        Products(U + (long)xi * Plan.OutChannels4 * G.InChannels, ws.V + xi * Plan.VPlane, Plan.Ld, G.InChannels,
                            Plan.OutChannels4, columns, ws.M + xi * Plan.MPlane, Plan.Ld);
                    for (int r = 0; r < count;)
                    {
                        var (b, ty) = rows.At(first + r);
                        int n = rows.InSample(first + r, count - r);
                        TransformOutputRows(G, Plan, ws.M + r * Plan.TilesWide, ty, n, Bias, Beta, Output[b]);
                        r += n;
                    }
                }
            }
        }
    }

    private struct WeightParts : IRangeBody
    {
        public Conv2dGeometry G;
        public Plan Plan;
        public int Batch;
        public float* Workspace, DU;
        public long DULength;
        public RowPointer<float> Input, GradOutput;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Run(int q0, int q1)
        {
            for (int q = q0; q < q1; q++)
            {
                var ws = new PartWorkspace(Plan, Workspace + q * Plan.PartLength);
                float* du = DU + q * DULength;
                new Span<float>(du, (int)DULength).Clear();
                // Ĝ's rows past the last output channel stay zero, so the padded channels add nothing.
                new Span<float>(ws.M, (int)Plan.ProductLength).Clear();
                var (b0, b1) = Conv2dNative.Samples(Batch, q, Plan.Parts);
                var rows = new TileRows(Plan, b0, b1);
                int padded = -1;
                while (rows.Next(out int first, out int count))
                {
                    TransformInputs(G, Plan, Input, rows, first, count, ws, ref padded);
                    for (int r = 0; r < count;)
                    {
                        var (b, ty) = rows.At(first + r);
                        int n = rows.InSample(first + r, count - r);
                        TransformGradientRows(G, Plan, GradOutput[b], ty, n, ws.M + r * Plan.TilesWide);
                        r += n;
                    }
                    int used = count * Plan.TilesWide, columns = (used + 7) / 8 * 8;
                    // The columns past the chunk's tiles hold spill from the last row: zero them in both factors (one vector
                    // covers them, and Ld leaves room for it).
                    for (int xi = 0; xi < Xi; xi++)
                    {
                        for (int c = 0; c < G.InChannels; c++) Avx.Store(ws.V + xi * Plan.VPlane + (long)c * Plan.Ld + used, Vector256<float>.Zero);
                        for (int o = 0; o < G.OutChannels; o++) Avx.Store(ws.M + xi * Plan.MPlane + (long)o * Plan.Ld + used, Vector256<float>.Zero);
                        GradientProducts(ws.M + xi * Plan.MPlane, ws.V + xi * Plan.VPlane, Plan.Ld, columns,
                            Plan.OutChannels4, G.InChannels, du + (long)xi * Plan.OutChannels4 * G.InChannels);
                    }
                }
            }
        }
    }

    /// <summary>V ← the input transform of tile rows [first, first + count), each sample padded when its first row comes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransformInputs(in Conv2dGeometry g, in Plan plan, RowPointer<float> input, in TileRows rows, int first, int count, in PartWorkspace ws, ref int padded)
    {
        for (int r = 0; r < count;)
        {
            var (b, ty) = rows.At(first + r);
            int n = rows.InSample(first + r, count - r);
            if (b != padded) { Pad(g, plan, input[b], ws.Padded, ws.RowBuffer); padded = b; }
            TransformInputRows(g, plan, ws.Padded, ty, n, ws.V + r * plan.TilesWide);
            r += n;
        }
    }

    /// <summary>One core's slices: the padded image and its row buffer, V and M (or Ĝ).</summary>
    private readonly struct PartWorkspace
    {
        public PartWorkspace(in Plan plan, float* start)
        {
            Padded = start;
            RowBuffer = start + plan.PaddedLength - plan.RowBuffer;
            V = start + plan.PaddedLength;
            M = V + plan.TransformLength;
        }

        public float* Padded { get; }
        public float* RowBuffer { get; }
        public float* V { get; }
        public float* M { get; }
    }

    /// <summary>The tile rows (sample, row of tiles) of samples [b0, b1), in order, handed out in chunks.</summary>
    private struct TileRows(Plan plan, int b0, int b1)
    {
        private readonly int _total = (b1 - b0) * plan.TilesHigh;
        private int _next;

        public bool Next(out int first, out int count)
        {
            first = _next;
            count = Math.Min(plan.RowsPerChunk, _total - _next);
            _next += count;
            return count > 0;
        }

        public readonly (int Sample, int TileRow) At(int index) => (b0 + index / plan.TilesHigh, index % plan.TilesHigh);

        /// <summary>How many of the <paramref name="most"/> tile rows from <paramref name="index"/> on belong to its sample.</summary>
        public readonly int InSample(int index, int most) => Math.Min(most, plan.TilesHigh - index % plan.TilesHigh);
    }

    // ---------------------------------------------------------------- transforms

    /// <summary>
    /// padded ← x with its border (zeros or wrapped), Rows × RowStride per channel, each row deinterleaved (even columns,
    /// then odd): a tile's columns 2t..2t+3 are then even[t], odd[t], even[t+1], odd[t+1], four contiguous vectors over t.
    /// A channel's rows are all staged (border added) before the first is split: a split loads whole vectors across the
    /// few stores that built its row, and loading them right after those stores stalls until they reach the cache
    /// (staging and splitting row by row cost about a sixth of the 32-channel forward pass).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Pad(in Conv2dGeometry g, in Plan plan, float* x, float* padded, float* rows)
    {
        int h = g.Height, w = g.Width, p = g.Padding, half = plan.Half, staged = plan.StagedRow;
        bool circular = g.PaddingMode == ConvPadding.Circular;
        // Columns past the padded image (an odd output width) stay zero from this clear.
        new Span<float>(rows, plan.RowBuffer).Clear();
        for (int c = 0; c < g.InChannels; c++)
        {
            float* src = x + (long)c * h * w, dst = padded + (long)c * plan.Plane;
            for (int r = 0; r < plan.Rows; r++)
                if (PaddedRow.Source(src, r, h, w, p, circular) is var s && s != null) PaddedRow.Fill(s, w, p, circular, rows + r * staged);
            for (int r = 0; r < plan.Rows; r++, dst += plan.RowStride)
            {
                if (PaddedRow.Source(src, r, h, w, p, circular) == null) new Span<float>(dst, plan.RowStride).Clear();
                else PaddedRow.Deinterleave(rows + r * staged, half, dst, dst + half);
            }
        }
        new Span<float>(padded + (long)g.InChannels * plan.Plane, 16).Clear();
    }

    /// <summary>
    /// V[ξ][c][tx] (ξ = 4i + j, row stride Ld, planes Cin·Ld apart) ← (Bᵀ d B)[i, j] for the tiles of tile row ty, every
    /// channel, 8 tiles at a time straight from the padded rows: Bᵀ along the rows (u0 = d0 − d2, u1 = d1 + d2,
    /// u2 = d2 − d1, u3 = d1 − d3) on the four column sets e[t], e[t+1], o[t], o[t+1] (even and odd halves of the rows),
    /// then B along the columns. (Staging the row pass in a scratch row and reloading it one float further on made every
    /// such load wait for the store it straddles: that version cost about as much as the products at 32 channels.)
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransformInputRows(in Conv2dGeometry g, in Plan plan, float* padded, int ty, int n, float* v)
    {
        int stride = plan.RowStride, half = plan.Half, tw = plan.TilesWide;
        long plane = plan.VPlane;
        for (int c = 0; c < g.InChannels; c++, v += plan.Ld)
            for (int k = 0; k < n; k++)
            {
                float* d0 = padded + (long)c * plan.Plane + 2 * (ty + k) * stride, d1 = d0 + stride, d2 = d1 + stride, d3 = d2 + stride;
                float* vk = v + k * tw;
                for (int t = 0; t < tw; t += 8)
                {
                    InputColumns(d0 + t, d2 + t, add: false, half, vk + t, plane);
                    InputColumns(d1 + t, d2 + t, add: true, half, vk + 4 * plane + t, plane);
                    InputColumns(d2 + t, d1 + t, add: false, half, vk + 8 * plane + t, plane);
                    InputColumns(d1 + t, d3 + t, add: false, half, vk + 12 * plane + t, plane);
                }
            }
    }

    /// <summary>
    /// One row i of Bᵀ d B for 8 tiles: u = a ± b along the rows at the column sets (e[t], e[t+1], o[t], o[t+1]), then
    /// v[i][0..3] = (e0 − e1, o0 + e1, e1 − o0, o0 − o1).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InputColumns(float* a, float* b, bool add, int half, float* v, long plane)
    {
        var e0 = Combine(Avx.LoadVector256(a), Avx.LoadVector256(b), add);
        var e1 = Combine(Avx.LoadVector256(a + 1), Avx.LoadVector256(b + 1), add);
        var o0 = Combine(Avx.LoadVector256(a + half), Avx.LoadVector256(b + half), add);
        var o1 = Combine(Avx.LoadVector256(a + half + 1), Avx.LoadVector256(b + half + 1), add);
        Avx.Store(v, Avx.Subtract(e0, e1));
        Avx.Store(v + plane, Avx.Add(o0, e1));
        Avx.Store(v + 2 * plane, Avx.Subtract(e1, o0));
        Avx.Store(v + 3 * plane, Avx.Subtract(o0, o1));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Combine(Vector256<float> a, Vector256<float> b, bool add) => add ? Avx.Add(a, b) : Avx.Subtract(a, b);

    /// <summary>
    /// Output rows 2ty .. 2(ty + n) − 1 of every channel ← Aᵀ M A (+ bias + β·output) from M[ξ][o][tx] (tile row ty + k at
    /// column k·TilesWide); columns and rows past the output (odd sizes) are computed and not stored. Channel by channel,
    /// so that each row of M and of the output is read or written in one pass.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransformOutputRows(in Conv2dGeometry g, in Plan plan, float* m, int ty, int n, float* bias, float beta, float* y)
    {
        int oh = g.OutHeight, ow = g.OutWidth, tw = plan.TilesWide;
        long plane = plan.MPlane;
        // A partial vector is stored whole. Its lanes past the row fall on the start of the channel's next rows; the
        // rows go top to bottom and the vectors of a row last to first, so with β = 0 those columns are written later by
        // this core and the lanes are simply overwritten (no load). Past the channel lies the next channel's first row,
        // which may be written already: those lanes are rewritten with what they held. A vector that would reach past
        // the sample, into another core's sample or past the tensor, takes masked stores.
        float* end = y + g.OutputSize;
        for (int o = 0; o < g.OutChannels; o++)
        {
            float* channelEnd = y + (long)(o + 1) * oh * ow;
            var add = Vector256.Create(bias == null ? 0f : bias[o]);
            for (int k = 0; k < n; k++)
            {
                float* mo = m + (long)o * plan.Ld + k * tw;
                float* y0 = y + (long)o * oh * ow + 2 * (ty + k) * ow, y1 = y0 + ow;
                bool secondRow = 2 * (ty + k) + 1 < oh;
                for (int t = (tw - 1) / 8 * 8; t >= 0; t -= 8)
                {
                    // Aᵀ along the rows: r0_j = m0j + m1j + m2j, r1_j = m1j − m2j − m3j; then along the columns.
                    Vector256<float> r00, r01, r02, r03, r10, r11, r12, r13;
                    Rows(mo + t, plane, 0, out r00, out r10);
                    Rows(mo + t, plane, 1, out r01, out r11);
                    Rows(mo + t, plane, 2, out r02, out r12);
                    Rows(mo + t, plane, 3, out r03, out r13);
                    var y00 = Avx.Add(Avx.Add(r00, r01), r02);
                    var y01 = Avx.Subtract(Avx.Subtract(r01, r02), r03);
                    var y10 = Avx.Add(Avx.Add(r10, r11), r12);
                    var y11 = Avx.Subtract(Avx.Subtract(r11, r12), r13);
                    int column = 2 * t;
                    StorePair(y0 + column, y00, y01, ow - column, add, beta, Past(y0 + column, channelEnd, end, beta));
                    if (secondRow) StorePair(y1 + column, y10, y11, ow - column, add, beta, Past(y1 + column, channelEnd, end, beta));
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Rows(float* m, long plane, int j, out Vector256<float> r0, out Vector256<float> r1)
    {
        var m0 = Avx.LoadVector256(m + j * plane);
        var m1 = Avx.LoadVector256(m + (4 + j) * plane);
        var m2 = Avx.LoadVector256(m + (8 + j) * plane);
        var m3 = Avx.LoadVector256(m + (12 + j) * plane);
        r0 = Avx.Add(Avx.Add(m0, m1), m2);
        r1 = Avx.Subtract(Avx.Subtract(m1, m2), m3);
    }

    /// <summary>What a partial vector of <see cref="StorePair"/> does to the floats past the valid columns.</summary>
    private enum Overrun { Overwrite, Keep, Masked }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Overrun Past(float* y, float* channelEnd, float* sampleEnd, float beta) =>
        y + 16 > sampleEnd ? Overrun.Masked : beta == 0f && y + 16 <= channelEnd ? Overrun.Overwrite : Overrun.Keep;

    /// <summary>
    /// y[0..16) ← interleave(a, b) + add (+ β·y) in the first <paramref name="valid"/> columns; the rest is overwritten with
    /// garbage (β = 0, the caller writes it later), rewritten with what it held, or not touched at all (masked stores,
    /// slow on some CPUs).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StorePair(float* y, Vector256<float> a, Vector256<float> b, int valid, Vector256<float> add, float beta, Overrun overrun)
    {
        var lo = Avx.UnpackLow(a, b);    // a0 b0 a1 b1 | a4 b4 a5 b5
        var hi = Avx.UnpackHigh(a, b);   // a2 b2 a3 b3 | a6 b6 a7 b7
        var first = Avx.Add(Avx.Permute2x128(lo, hi, 0x20), add);
        var second = Avx.Add(Avx.Permute2x128(lo, hi, 0x31), add);
        if (valid >= 16 || overrun == Overrun.Overwrite)
        {
            if (beta != 0f)
            {
                var vb = Vector256.Create(beta);
                first = Fma.MultiplyAdd(vb, Avx.LoadVector256(y), first);
                second = Fma.MultiplyAdd(vb, Avx.LoadVector256(y + 8), second);
            }
            Avx.Store(y, first);
            Avx.Store(y + 8, second);
            return;
        }
        var m0 = Mask(valid);
        var m1 = Mask(valid - 8);
        if (overrun == Overrun.Masked)
        {
            if (beta != 0f)
            {
                var vb = Vector256.Create(beta);
                first = Fma.MultiplyAdd(vb, Avx.MaskLoad(y, m0), first);
                second = Fma.MultiplyAdd(vb, Avx.MaskLoad(y + 8, m1), second);
            }
            Avx.MaskStore(y, m0, first);
            Avx.MaskStore(y + 8, m1, second);
            return;
        }
        var old0 = Avx.LoadVector256(y);
        var old1 = Avx.LoadVector256(y + 8);
        if (beta != 0f)
        {
            var vb = Vector256.Create(beta);
            first = Fma.MultiplyAdd(vb, old0, first);
            second = Fma.MultiplyAdd(vb, old1, second);
        }
        Avx.Store(y, Avx.BlendVariable(old0, first, m0));
        Avx.Store(y + 8, Avx.BlendVariable(old1, second, m1));
    }

    /// <summary>Lanes 0..n−1 set (n ≤ 0: none, n ≥ 8: all): the mask of a partial vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Mask(int n) =>
        Avx2.CompareGreaterThan(Vector256.Create(n), Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7)).AsSingle();

    /// <summary>
    /// Ĝ[ξ][o][tx] ← (A dY Aᵀ)[i, j] for the tiles of tile rows ty .. ty + n − 1 (tile row ty + k at column k·TilesWide):
    /// the gradient of M, from output rows 2ty .. 2(ty + n) − 1 (zero past the output), channel by channel.
    /// A = [[1, 0], [1, 1], [1, −1], [0, −1]].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransformGradientRows(in Conv2dGeometry g, in Plan plan, float* dy, int ty, int n, float* gm)
    {
        int oh = g.OutHeight, ow = g.OutWidth, tw = plan.TilesWide;
        long plane = plan.MPlane;
        for (int o = 0; o < g.OutChannels; o++)
            for (int k = 0; k < n; k++)
            {
                float* row0 = dy + (long)o * oh * ow + 2 * (ty + k) * ow, row1 = row0 + ow;
                float* go = gm + (long)o * plan.Ld + k * tw;
                bool secondRow = 2 * (ty + k) + 1 < oh;
                for (int t = 0; t < tw; t += 8)
                {
                    int column = 2 * t, valid = ow - column;
                    var (a0, b0) = LoadPair(row0 + column, valid);
                    var (a1, b1) = secondRow ? LoadPair(row1 + column, valid) : (Vector256<float>.Zero, Vector256<float>.Zero);
                    // Along the rows: w0 = y0, w1 = y0 + y1, w2 = y0 − y1, w3 = −y1; along the columns the same on (a, b).
                    StoreColumns(go + t, plane, 0, a0, b0);
                    StoreColumns(go + t, plane, 1, Avx.Add(a0, a1), Avx.Add(b0, b1));
                    StoreColumns(go + t, plane, 2, Avx.Subtract(a0, a1), Avx.Subtract(b0, b1));
                    StoreColumns(go + t, plane, 3, Avx.Subtract(Vector256<float>.Zero, a1), Avx.Subtract(Vector256<float>.Zero, b1));
                }
            }
    }

    /// <summary>(even columns, odd columns) of y[0..16), zeros from column <paramref name="valid"/> on.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<float> Even, Vector256<float> Odd) LoadPair(float* y, int valid) =>
        valid >= 16 ? PaddedRow.Deinterleave(Avx.LoadVector256(y), Avx.LoadVector256(y + 8)) : PaddedRow.Deinterleave(Avx.MaskLoad(y, Mask(valid)), Avx.MaskLoad(y + 8, Mask(valid - 8)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreColumns(float* g, long plane, int i, Vector256<float> p, Vector256<float> q)
    {
        float* row = g + 4 * i * plane;
        Avx.Store(row, p);
        Avx.Store(row + plane, Avx.Add(p, q));
        Avx.Store(row + 2 * plane, Avx.Subtract(p, q));
        Avx.Store(row + 3 * plane, Avx.Subtract(Vector256<float>.Zero, q));
    }

    /// <summary>
    /// u[ξ][o/4][c][o%4] ← (G w Gᵀ)[ξ] for every (o, c), zero for the padded channels o ≥ Cout; G = [[1, 0, 0],
    /// [½, ½, ½], [½, −½, ½], [0, 0, 1]]. Packed so the products broadcast four consecutive values per input channel.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransformWeights(in Conv2dGeometry g, in Plan plan, float* weight, long ldw, float* u)
    {
        int cin = g.InChannels;
        long plane = (long)plan.OutChannels4 * cin;
        float* t = stackalloc float[Xi];
        for (int o = 0; o < plan.OutChannels4; o++)
            for (int c = 0; c < cin; c++)
            {
                if (o < g.OutChannels) KernelToTile(weight + o * ldw + c * 9, t);
                else new Span<float>(t, Xi).Clear();
                long at = ((long)(o / OBlock) * cin + c) * OBlock + o % OBlock;
                for (int xi = 0; xi < Xi; xi++) u[xi * plane + at] = t[xi];
            }
    }

    /// <summary>t (4×4) ← G w Gᵀ for one 3×3 kernel w.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void KernelToTile(float* w, float* t)
    {
        float* gw = stackalloc float[12];
        for (int j = 0; j < 3; j++)
        {
            float w0 = w[j], w1 = w[3 + j], w2 = w[6 + j];
            gw[j] = w0; gw[3 + j] = 0.5f * (w0 + w1 + w2); gw[6 + j] = 0.5f * (w0 - w1 + w2); gw[9 + j] = w2;
        }
        for (int i = 0; i < 4; i++)
        {
            float a = gw[3 * i], b = gw[3 * i + 1], c = gw[3 * i + 2];
            t[4 * i] = a; t[4 * i + 1] = 0.5f * (a + b + c); t[4 * i + 2] = 0.5f * (a - b + c); t[4 * i + 3] = c;
        }
    }

    /// <summary>gradWeight[o][c] ← Gᵀ dU[·][c][o] G (+ β·gradWeight): the 4×4 tile gradient back to the 3×3 kernel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransformWeightGradient(in Conv2dGeometry g, in Plan plan, float* du, float* gradWeight, long ldw, float beta)
    {
        int cin = g.InChannels;
        long plane = (long)plan.OutChannels4 * cin;
        float* t = stackalloc float[Xi];
        float* gt = stackalloc float[12];
        for (int o = 0; o < g.OutChannels; o++)
            for (int c = 0; c < cin; c++)
            {
                for (int xi = 0; xi < Xi; xi++) t[xi] = du[xi * plane + (long)c * plan.OutChannels4 + o];
                // (Gᵀ t)[i][l]: row 0 = t0 + ½(t1 + t2), row 1 = ½(t1 − t2), row 2 = ½(t1 + t2) + t3; then the same along l.
                for (int l = 0; l < 4; l++)
                {
                    float t0 = t[l], t1 = t[4 + l], t2 = t[8 + l], t3 = t[12 + l];
                    gt[l] = t0 + 0.5f * (t1 + t2); gt[4 + l] = 0.5f * (t1 - t2); gt[8 + l] = 0.5f * (t1 + t2) + t3;
                }
                float* w = gradWeight + o * ldw + c * 9;
                for (int i = 0; i < 3; i++)
                {
                    float t0 = gt[4 * i], t1 = gt[4 * i + 1], t2 = gt[4 * i + 2], t3 = gt[4 * i + 3];
                    float w0 = t0 + 0.5f * (t1 + t2), w1 = 0.5f * (t1 - t2), w2 = 0.5f * (t1 + t2) + t3;
                    if (beta == 0f) { w[3 * i] = w0; w[3 * i + 1] = w1; w[3 * i + 2] = w2; }
                    else { w[3 * i] = w0 + beta * w[3 * i]; w[3 * i + 1] = w1 + beta * w[3 * i + 1]; w[3 * i + 2] = w2 + beta * w[3 * i + 2]; }
                }
            }
    }

    // ---------------------------------------------------------------- products

    /// <summary>
    /// m[o][t] ← Σ_c u[o/4][c][o%4]·v[c][t] for o &lt; outChannels4, t &lt; columns (a multiple of 8): blocks of 4 output
    /// channels × 24 tiles (12 accumulators, 3 loads and 4 broadcasts per input channel), then 8 at a time.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Products(float* u, float* v, long ldv, int cin, int outChannels4, int columns, float* m, long ldm)
    {
        for (int t = 0; t < columns;)
        {
            int width = columns - t >= 24 ? 24 : 8;
            for (int o = 0; o < outChannels4; o += OBlock)
            {
                float* block = u + (long)o * cin;
                if (width == 24) Block4x24(block, v + t, ldv, cin, m + o * ldm + t, ldm);
                else Block4x8(block, v + t, ldv, cin, m + o * ldm + t, ldm);
            }
            t += width;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block4x24(float* u, float* v, long ldv, int cin, float* m, long ldm)
    {
        Vector256<float> a00 = default, a01 = default, a02 = default, a10 = default, a11 = default, a12 = default;
        Vector256<float> a20 = default, a21 = default, a22 = default, a30 = default, a31 = default, a32 = default;
        for (int c = 0; c < cin; c++, u += OBlock, v += ldv)
        {
            var x0 = Avx.LoadVector256(v);
            var x1 = Avx.LoadVector256(v + 8);
            var x2 = Avx.LoadVector256(v + 16);
            var b = Vector256.Create(u[0]);
            a00 = Fma.MultiplyAdd(b, x0, a00); a01 = Fma.MultiplyAdd(b, x1, a01); a02 = Fma.MultiplyAdd(b, x2, a02);
            b = Vector256.Create(u[1]);
            a10 = Fma.MultiplyAdd(b, x0, a10); a11 = Fma.MultiplyAdd(b, x1, a11); a12 = Fma.MultiplyAdd(b, x2, a12);
            b = Vector256.Create(u[2]);
            a20 = Fma.MultiplyAdd(b, x0, a20); a21 = Fma.MultiplyAdd(b, x1, a21); a22 = Fma.MultiplyAdd(b, x2, a22);
            b = Vector256.Create(u[3]);
            a30 = Fma.MultiplyAdd(b, x0, a30); a31 = Fma.MultiplyAdd(b, x1, a31); a32 = Fma.MultiplyAdd(b, x2, a32);
        }
        Avx.Store(m, a00); Avx.Store(m + 8, a01); Avx.Store(m + 16, a02); m += ldm;
        Avx.Store(m, a10); Avx.Store(m + 8, a11); Avx.Store(m + 16, a12); m += ldm;
        Avx.Store(m, a20); Avx.Store(m + 8, a21); Avx.Store(m + 16, a22); m += ldm;
        Avx.Store(m, a30); Avx.Store(m + 8, a31); Avx.Store(m + 16, a32);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block4x8(float* u, float* v, long ldv, int cin, float* m, long ldm)
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        for (int c = 0; c < cin; c++, u += OBlock, v += ldv)
        {
            var x = Avx.LoadVector256(v);
            a0 = Fma.MultiplyAdd(Vector256.Create(u[0]), x, a0);
            a1 = Fma.MultiplyAdd(Vector256.Create(u[1]), x, a1);
            a2 = Fma.MultiplyAdd(Vector256.Create(u[2]), x, a2);
            a3 = Fma.MultiplyAdd(Vector256.Create(u[3]), x, a3);
        }
        Avx.Store(m, a0); Avx.Store(m + ldm, a1); Avx.Store(m + 2 * ldm, a2); Avx.Store(m + 3 * ldm, a3);
    }

    /// <summary>
    /// du[c][o] += Σ_t gm[o][t]·v[c][t] over t &lt; columns (a multiple of 8), o &lt; outChannels4: dot products along the
    /// tiles in blocks of 4 output × 3 input channels (12 accumulators; 2 or 1 for the last), summed across lanes at the end
    /// into four consecutive entries of du (output channels innermost, so one vector add per input channel).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GradientProducts(float* gm, float* v, long ld, int columns, int outChannels4, int cin, float* du)
    {
        for (int o = 0; o < outChannels4; o += OBlock)
        {
            float* g0 = gm + o * ld;
            int c = 0;
            for (; c + 3 <= cin; c += 3) Dot4x3(g0, v + c * ld, ld, columns, du + (long)c * outChannels4 + o, outChannels4);
            if (cin - c == 2) Dot4x2(g0, v + c * ld, ld, columns, du + (long)c * outChannels4 + o, outChannels4);
            else if (cin - c == 1) Dot4x1(g0, v + c * ld, ld, columns, du + (long)c * outChannels4 + o, outChannels4);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Dot4x3(float* g, float* v, long ld, int columns, float* du, int lddu)
    {
        Vector256<float> a00 = default, a01 = default, a02 = default, a10 = default, a11 = default, a12 = default;
        Vector256<float> a20 = default, a21 = default, a22 = default, a30 = default, a31 = default, a32 = default;
        float* v1 = v + ld, v2 = v1 + ld;
        for (int t = 0; t < columns; t += 8)
        {
            var x0 = Avx.LoadVector256(v + t);
            var x1 = Avx.LoadVector256(v1 + t);
            var x2 = Avx.LoadVector256(v2 + t);
            var y = Avx.LoadVector256(g + t);
            a00 = Fma.MultiplyAdd(y, x0, a00); a01 = Fma.MultiplyAdd(y, x1, a01); a02 = Fma.MultiplyAdd(y, x2, a02);
            y = Avx.LoadVector256(g + ld + t);
            a10 = Fma.MultiplyAdd(y, x0, a10); a11 = Fma.MultiplyAdd(y, x1, a11); a12 = Fma.MultiplyAdd(y, x2, a12);
            y = Avx.LoadVector256(g + 2 * ld + t);
            a20 = Fma.MultiplyAdd(y, x0, a20); a21 = Fma.MultiplyAdd(y, x1, a21); a22 = Fma.MultiplyAdd(y, x2, a22);
            y = Avx.LoadVector256(g + 3 * ld + t);
            a30 = Fma.MultiplyAdd(y, x0, a30); a31 = Fma.MultiplyAdd(y, x1, a31); a32 = Fma.MultiplyAdd(y, x2, a32);
        }
        Accumulate(du, Sum4(a00, a10, a20, a30));
        Accumulate(du + lddu, Sum4(a01, a11, a21, a31));
        Accumulate(du + 2 * lddu, Sum4(a02, a12, a22, a32));
    }

    /// <summary>du[0..4) += s (four output channels of one input channel).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Accumulate(float* du, Vector128<float> s) => Sse.Store(du, Sse.Add(Sse.LoadVector128(du), s));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Dot4x2(float* g, float* v, long ld, int columns, float* du, int lddu)
    {
        Vector256<float> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default, a30 = default, a31 = default;
        float* v1 = v + ld;
        for (int t = 0; t < columns; t += 8)
        {
            var x0 = Avx.LoadVector256(v + t);
            var x1 = Avx.LoadVector256(v1 + t);
            var y = Avx.LoadVector256(g + t);
            a00 = Fma.MultiplyAdd(y, x0, a00); a01 = Fma.MultiplyAdd(y, x1, a01);
            y = Avx.LoadVector256(g + ld + t);
            a10 = Fma.MultiplyAdd(y, x0, a10); a11 = Fma.MultiplyAdd(y, x1, a11);
            y = Avx.LoadVector256(g + 2 * ld + t);
            a20 = Fma.MultiplyAdd(y, x0, a20); a21 = Fma.MultiplyAdd(y, x1, a21);
            y = Avx.LoadVector256(g + 3 * ld + t);
            a30 = Fma.MultiplyAdd(y, x0, a30); a31 = Fma.MultiplyAdd(y, x1, a31);
        }
        Accumulate(du, Sum4(a00, a10, a20, a30));   // (o0, o1, o2, o3) for the first input channel
        Accumulate(du + lddu, Sum4(a01, a11, a21, a31));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Dot4x1(float* g, float* v, long ld, int columns, float* du, int lddu)
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        for (int t = 0; t < columns; t += 8)
        {
            var x = Avx.LoadVector256(v + t);
            a0 = Fma.MultiplyAdd(Avx.LoadVector256(g + t), x, a0);
            a1 = Fma.MultiplyAdd(Avx.LoadVector256(g + ld + t), x, a1);
            a2 = Fma.MultiplyAdd(Avx.LoadVector256(g + 2 * ld + t), x, a2);
            a3 = Fma.MultiplyAdd(Avx.LoadVector256(g + 3 * ld + t), x, a3);
        }
        Accumulate(du, Sum4(a0, a1, a2, a3));
    }

    /// <summary>(Σ a, Σ b, Σ c, Σ d) over the 8 lanes of each.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Sum4(Vector256<float> a, Vector256<float> b, Vector256<float> c, Vector256<float> d)
    {
        var ab = Avx.HorizontalAdd(a, b);     // a01 a23 b01 b23 | a45 a67 b45 b67
        var cd = Avx.HorizontalAdd(c, d);
        var abcd = Avx.HorizontalAdd(ab, cd); // a0123 b0123 c0123 d0123 | a4567 b4567 c4567 d4567
        return Sse.Add(abcd.GetLower(), abcd.GetUpper());
    }
}
