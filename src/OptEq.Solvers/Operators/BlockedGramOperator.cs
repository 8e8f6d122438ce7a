namespace OptEq.Solvers.Operators;

/// <summary>
/// K = WᵀW applied as W then Wᵀ (as <see cref="GramOperator{T}"/>), but over blocks of rows small enough that the
/// intermediate W·v of a block stays in cache between the two passes: a fused convolution–transposed-convolution by
/// cache blocking. The same result as <see cref="GramOperator{T}"/> (rows never mix), and the alternative that
/// `opteq bench conv` measures against it. Row views of each argument are made on its first use and kept (keyed by
/// the tensor), so the applications of a solve allocate nothing after the first.
/// </summary>
public sealed class BlockedGramOperator<T> : IGramOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    // The arguments of a training step's solves (solver iterates and history, adjoint vectors) come from pools and are
    // the same tensors every step: well under this bound, so a step allocates nothing once they are all seen.
    private const int MaxCachedTensors = 64;
    private readonly Tensor<T> _scratch;
    private readonly Tensor<T>[] _scratchBlocks;
    private readonly Dictionary<Tensor<T>, Tensor<T>[]> _blocks = new(ReferenceEqualityComparer.Instance);

    /// <param name="w">W.</param>
    /// <param name="batch">Rows of the arguments.</param>
    /// <param name="rowsPerBlock">Rows per block (see <see cref="RowsThatFit"/>).</param>
    public BlockedGramOperator(ILinearOperator<T> w, int batch, int rowsPerBlock)
    {
        ArgumentNullException.ThrowIfNull(w);
        if (batch < 1) throw new ArgumentOutOfRangeException(nameof(batch), batch, "batch must be ≥ 1");
        if (rowsPerBlock < 1) throw new ArgumentOutOfRangeException(nameof(rowsPerBlock), rowsPerBlock, "rows per block must be ≥ 1");
        Root = w;
        Batch = batch;
        RowsPerBlock = Math.Min(rowsPerBlock, batch);
        _scratch = w.Device.Pool.Rent<T>(batch, w.OutputSize);
        _scratchBlocks = Split(_scratch);
    }

    /// <summary>
    /// Rows per block such that each core's share of a block's intermediate (cores share a block's rows) takes at most
    /// half of a per-core cache of <paramref name="cacheBytes"/>, leaving the rest to the block's input and output.
    /// </summary>
    public static int RowsThatFit(int outputSize, int cores, long cacheBytes = 512 * 1024)
    {
        long perRow = (long)outputSize * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        return (int)Math.Max(1, Math.Min(int.MaxValue, cacheBytes / 2 / Math.Max(1, perRow) * Math.Max(1, cores)));
    }

    public ILinearOperator<T> Root { get; }
    public int Batch { get; }
    public int RowsPerBlock { get; }
    public Device Device => Root.Device;
    public int InputSize => Root.InputSize;
    public int OutputSize => Root.InputSize;

    /// <summary>result ← WᵀW·v + β·result, block by block.</summary>
    public void Apply(Tensor<T> v, Tensor<T> result, T beta)
    {
        if (v.Rank != 2 || v.Shape[0] != Batch || result.Rank != 2 || result.Shape[0] != Batch)
            throw new ShapeException($"blocked gram operator: v and result must have {Batch} rows, got [{string.Join(", ", v.Shape)}] and [{string.Join(", ", result.Shape)}]");
        if (RowsPerBlock >= Batch)
        {
            // One block: the whole batch, no views to make (the two convolutions of GramOperator).
            Root.Apply(v, _scratch, T.Zero);
            Root.ApplyTranspose(_scratch, result, beta);
            return;
        }
        var vBlocks = BlocksOf(v);
        var resultBlocks = BlocksOf(result);
        for (int i = 0; i < vBlocks.Length; i++)
        {
            Root.Apply(vBlocks[i], _scratchBlocks[i], T.Zero);
            Root.ApplyTranspose(_scratchBlocks[i], resultBlocks[i], beta);
        }
    }

    /// <summary>K is symmetric: the same as <see cref="Apply"/>.</summary>
    public void ApplyTranspose(Tensor<T> v, Tensor<T> result, T beta) => Apply(v, result, beta);

    /// <summary>W·v over the whole batch into the operator's scratch, [batch, W.OutputSize] (valid until the next call); for ||W v||².</summary>
    public Tensor<T> ApplyRoot(Tensor<T> v)
    {
        Root.Apply(v, _scratch, T.Zero);
        return _scratch;
    }

    /// <summary>Nothing to refresh: each application reads W's weights.</summary>
    public void Refresh() { }

    public void Dispose() => Device.Pool.Return(_scratch);

    private Tensor<T>[] BlocksOf(Tensor<T> t)
    {
        if (_blocks.TryGetValue(t, out var blocks)) return blocks;
        if (_blocks.Count >= MaxCachedTensors) _blocks.Clear(); // a caller cycling through new tensors: keep the cache bounded
        return _blocks[t] = Split(t);
    }

    private Tensor<T>[] Split(Tensor<T> t)
    {
        int count = (Batch + RowsPerBlock - 1) / RowsPerBlock;
        var blocks = new Tensor<T>[count];
        for (int i = 0; i < count; i++)
        {
            int start = i * RowsPerBlock;
            blocks[i] = t.Slice(start, Math.Min(RowsPerBlock, Batch - start));
        }
        return blocks;
    }
}
