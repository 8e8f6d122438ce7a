using System.Numerics;
using ILGPU;

namespace OptEq.Kernels.Ilgpu.Kernels;

/// <summary>
/// How one convolution pass reads as a GEMM C[m, n] = Σ_k A[m, k]·B[k, n] per sample s, without forming either
/// operand: element loads gather from the tensors (the column matrix is never written), the store applies bias and β.
/// </summary>
public interface IConvGemm<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>
    /// Whether the launch's z index is a split of k rather than a sample: split s sums k in [s·KChunk, (s + 1)·KChunk)
    /// (<see cref="ConvArgs{T}.KChunk"/>) and stores its partial C for <see cref="Conv2dSplitKernel.SumSplits"/> to add up.
    /// </summary>
    bool SplitsK { get; }
    T LoadA(ArrayView<T> a, ConvArgs<T> p, int s, int row, int k);
    T LoadB(ArrayView<T> b, ConvArgs<T> p, int s, int k, int col);
    void Store(ArrayView<T> c, ArrayView<T> bias, ConvArgs<T> p, int s, int row, int col, T sum);
}

/// <summary>Forward: A = weight [OutChannels, (c, i, j)], B = the column matrix of input sample s [(c, i, j), pixel], C = output sample s.</summary>
public struct ConvForwardGemm<T> : IConvGemm<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public readonly bool SplitsK => false;

    public T LoadA(ArrayView<T> a, ConvArgs<T> p, int s, int row, int k) => a[row * p.LdWeight + k];

    public T LoadB(ArrayView<T> b, ConvArgs<T> p, int s, int k, int col)
    {
        int taps = p.KernelHeight * p.KernelWidth;
        int c = k / taps, i = k % taps / p.KernelWidth, j = k % p.KernelWidth;
        int h = p.Source(col / p.OutWidth, i, p.Height), w = p.Source(col % p.OutWidth, j, p.Width);
        return h < 0 || w < 0 ? T.Zero : b[s * p.LdA + (c * p.Height + h) * p.Width + w];
    }

    public void Store(ArrayView<T> c, ArrayView<T> bias, ConvArgs<T> p, int s, int row, int col, T sum)
    {
        long at = s * p.LdB + row * p.OutPixels + col;
        T v = p.HasBias != 0 ? sum + bias[row] : sum;
        c[at] = p.Beta == T.Zero ? v : v + p.Beta * c[at];
    }
}

/// <summary>
/// Backward input, gathered per input pixel (no two threads write one element): A[c, (o, i, j)] = weight[o, c, i, j],
/// B[(o, i, j), pixel (h, w)] = the gradOutput entries whose tap (i, j) reads pixel (h, w) (several where circular
/// padding wraps onto itself), C = gradInput sample s.
/// </summary>
public struct ConvBackwardInputGemm<T> : IConvGemm<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public readonly bool SplitsK => false;

    public T LoadA(ArrayView<T> a, ConvArgs<T> p, int s, int row, int k)
    {
        int taps = p.KernelHeight * p.KernelWidth;
        return a[(k / taps) * p.LdWeight + row * taps + k % taps];
    }

    public T LoadB(ArrayView<T> b, ConvArgs<T> p, int s, int k, int col)
    {
        int taps = p.KernelHeight * p.KernelWidth;
        int o = k / taps, i = k % taps / p.KernelWidth, j = k % p.KernelWidth;
        int h = col / p.Width, w = col % p.Width;
        T sum = T.Zero;
        for (int wrapH = -1; wrapH <= 1; wrapH++)
        {
            if (wrapH != 0 && p.Circular == 0) continue;
            int ty = h + wrapH * p.Height + p.Padding - i; // = y·stride
            if (ty < 0 || ty % p.Stride != 0 || ty / p.Stride >= p.OutHeight) continue;
            for (int wrapW = -1; wrapW <= 1; wrapW++)
            {
                if (wrapW != 0 && p.Circular == 0) continue;
                int tx = w + wrapW * p.Width + p.Padding - j;
                if (tx < 0 || tx % p.Stride != 0 || tx / p.Stride >= p.OutWidth) continue;
                sum += b[s * p.LdA + (o * p.OutHeight + ty / p.Stride) * p.OutWidth + tx / p.Stride];
            }
        }
        return sum;
    }

    public void Store(ArrayView<T> c, ArrayView<T> bias, ConvArgs<T> p, int s, int row, int col, T sum)
    {
        long at = s * p.LdB + row * (p.Height * p.Width) + col;
        c[at] = p.Beta == T.Zero ? sum : sum + p.Beta * c[at];
    }
}

/// <summary>
/// Backward weight, one GEMM over the whole batch: A[o, (s, pixel)] = gradOutput[s, o, pixel], B[(s, pixel), (c, i, j)] =
/// the column matrix of input sample s transposed, C = gradWeight (the sample index of the launch is unused: batch 1).
/// </summary>
public struct ConvBackwardWeightGemm<T> : IConvGemm<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public readonly bool SplitsK => false;

    public T LoadA(ArrayView<T> a, ConvArgs<T> p, int s, int row, int k)
    {
        int pixels = p.OutPixels;
        return a[(k / pixels) * p.LdB + row * pixels + k % pixels];
    }

    public T LoadB(ArrayView<T> b, ConvArgs<T> p, int s, int k, int col) => default(ConvForwardGemm<T>).LoadB(b, p, k / p.OutPixels, col, k % p.OutPixels);

    public void Store(ArrayView<T> c, ArrayView<T> bias, ConvArgs<T> p, int s, int row, int col, T sum)
    {
        long at = row * p.LdWeight + col;
        c[at] = p.Beta == T.Zero ? sum : sum + p.Beta * c[at];
    }
}

/// <summary>
/// Backward weight as a split-k GEMM: the operands of <see cref="ConvBackwardWeightGemm{T}"/>, k (samples × pixels) cut
/// into chunks, split s storing its partial gradWeight, unscaled, at partials[s, o, column]. With one sample's pixels per
/// chunk or more, a 32-channel layer's gradient is thousands of groups' work instead of one group's.
/// </summary>
public struct ConvBackwardWeightSplitGemm<T> : IConvGemm<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public readonly bool SplitsK => true;

    public T LoadA(ArrayView<T> a, ConvArgs<T> p, int s, int row, int k) => default(ConvBackwardWeightGemm<T>).LoadA(a, p, s, row, k);

    public T LoadB(ArrayView<T> b, ConvArgs<T> p, int s, int k, int col) => default(ConvBackwardWeightGemm<T>).LoadB(b, p, s, k, col);

    public void Store(ArrayView<T> c, ArrayView<T> bias, ConvArgs<T> p, int s, int row, int col, T sum)
        => c[((long)s * p.OutChannels + row) * p.WeightColumns + col] = sum;
}

/// <summary>
/// The convolution passes as implicit GEMMs, tiled like <see cref="GemmKernel"/>: a group owns a TileM × TileN tile of C
/// (output channels × output pixels for the forward pass), walks k in slices of TileK, and stages the slice of A (weights)
/// and of B (gathered input patches) in shared memory, zero outside the operands; each thread then accumulates its 4 × 4
/// register block from shared memory. Grid: x = tile column, y = tile row (grid-stride), z = sample or, for a split-k
/// op, split of k (grid-stride).
/// References: <see cref="Reference.ReferenceKernels.Conv2d"/> and its backward passes.
/// </summary>
public static class Conv2dKernel
{
    public static void Run<T, TTile, TOp>(ArrayView<T> a, ArrayView<T> b, ArrayView<T> c, ArrayView<T> bias, ConvArgs<T> p, int m, int n, int kTotal, int batch, TOp op)
        where T : unmanaged, IFloatingPointIeee754<T> where TTile : struct, IGemmTiling where TOp : struct, IConvGemm<T>
    {
        var tiling = default(TTile);
        int bm = tiling.TileM, bn = tiling.TileN, bk = tiling.TileK;
        int pitchA = bm + 1, pitchB = bn + 1;
        var tileA = SharedMemory.Allocate<T>(tiling.TileK * (tiling.TileM + 1));
        var tileB = SharedMemory.Allocate<T>(tiling.TileK * (tiling.TileN + 1));

        int threadsX = bn / 4, threadsY = bm / 4, threads = threadsX * threadsY;
        int tid = Group.IdxX, tx = tid % threadsX, ty = tid / threadsX;
        int col0 = Grid.IdxX * bn;
        int tilesM = (m + bm - 1) / bm;

        for (int s = Grid.IdxZ; s < batch; s += Grid.DimZ)
            for (int tm = Grid.IdxY; tm < tilesM; tm += Grid.DimY)
            {
                int row0 = tm * bm;
                int kBegin = op.SplitsK ? s * p.KChunk : 0;
                int kEnd = op.SplitsK ? Math.Min(kTotal, kBegin + p.KChunk) : kTotal;
                var acc = new Block4x4<T>();
                for (int k0 = kBegin; k0 < kEnd; k0 += bk)
                {
                    for (int e = tid; e < bm * bk; e += threads)
                    {
                        int r = e / bk, kk = e % bk, row = row0 + r, k = k0 + kk;
                        tileA[kk * pitchA + r] = row < m && k < kEnd ? op.LoadA(a, p, s, row, k) : T.Zero;
                    }
                    for (int e = tid; e < bk * bn; e += threads)
                    {
                        int kk = e / bn, cc = e % bn, col = col0 + cc, k = k0 + kk; // consecutive threads: consecutive pixels
                        tileB[kk * pitchB + cc] = col < n && k < kEnd ? op.LoadB(b, p, s, k, col) : T.Zero;
                    }
                    Group.Barrier();
                    for (int kk = 0; kk < bk; kk++)
                    {
                        int ra = kk * pitchA + ty, rb = kk * pitchB + tx;
                        acc.AddOuterProduct(
                            new Vec4<T>(tileA[ra], tileA[ra + threadsY], tileA[ra + 2 * threadsY], tileA[ra + 3 * threadsY]),
                            new Vec4<T>(tileB[rb], tileB[rb + threadsX], tileB[rb + 2 * threadsX], tileB[rb + 3 * threadsX]));
                    }
                    Group.Barrier(); // the slices are read by all before they are overwritten
                }
                int rowT = row0 + ty, colT = col0 + tx;
                StoreRow(op, c, bias, p, s, m, n, rowT, colT, threadsX, acc.R0);
                StoreRow(op, c, bias, p, s, m, n, rowT + threadsY, colT, threadsX, acc.R1);
                StoreRow(op, c, bias, p, s, m, n, rowT + 2 * threadsY, colT, threadsX, acc.R2);
                StoreRow(op, c, bias, p, s, m, n, rowT + 3 * threadsY, colT, threadsX, acc.R3);
            }
    }

    private static void StoreRow<T, TOp>(TOp op, ArrayView<T> c, ArrayView<T> bias, ConvArgs<T> p, int s, int m, int n, int row, int col, int step, Vec4<T> v)
        where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IConvGemm<T>
    {
        if (row >= m) return;
        if (col < n) op.Store(c, bias, p, s, row, col, v.V0);
        if (col + step < n) op.Store(c, bias, p, s, row, col + step, v.V1);
        if (col + 2 * step < n) op.Store(c, bias, p, s, row, col + 2 * step, v.V2);
        if (col + 3 * step < n) op.Store(c, bias, p, s, row, col + 3 * step, v.V3);
    }
}

/// <summary>The second pass of the split-k weight gradient: gradWeight[o, col] ← Σ_s partials[s, o, col] (s in order, so
/// the result does not depend on scheduling) + β·gradWeight[o, col]; one thread per element.</summary>
public static class Conv2dSplitKernel
{
    public static void SumSplits<T>(ArrayView<T> partials, ArrayView<T> gradWeight, ConvArgs<T> p, int splits) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int columns = p.WeightColumns, elements = p.OutChannels * columns;
        for (int e = Grid.GlobalIndex.X; e < elements; e += Grid.DimX * Group.DimX)
        {
            T sum = T.Zero;
            for (int s = 0; s < splits; s++) sum += partials[(long)s * elements + e];
            long at = e / columns * p.LdWeight + e % columns;
            gradWeight[at] = p.Beta == T.Zero ? sum : sum + p.Beta * gradWeight[at];
        }
    }
}
