namespace OptEq.Autodiff.Data;

/// <summary>
/// Rank <see cref="Rank"/>'s part of every global batch when <see cref="Ranks"/> processes train data-parallel: a
/// contiguous run of the batch, the sizes differing by at most one (the first <c>count % Ranks</c> ranks take one more).
/// Every rank enumerates the same global order (a function of seed and epoch), so the shards of a batch partition it.
/// </summary>
public readonly record struct BatchShard
{
    public BatchShard(int rank, int ranks)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ranks);
        if (rank < 0 || rank >= ranks) throw new ArgumentOutOfRangeException(nameof(rank), rank, $"rank must be in [0, {ranks})");
        Rank = rank;
        Ranks = ranks;
    }

    public int Rank { get; }
    public int Ranks { get; }

    /// <summary>The whole batch (one process).</summary>
    public static BatchShard Whole => new(0, 1);

    /// <summary>Where this rank's part of a batch of <paramref name="count"/> samples starts, and how many it has (possibly 0).</summary>
    public (int Start, int Count) Of(int count)
    {
        int each = count / Ranks, extra = count % Ranks;
        return (Rank * each + Math.Min(Rank, extra), each + (Rank < extra ? 1 : 0));
    }
}
