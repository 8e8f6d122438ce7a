namespace OptEq.Autodiff.Data;

/// <summary>
/// Mini-batches of a <see cref="Dataset"/> copied into preallocated device tensors. The order of an epoch depends only
/// on (seed, epoch), so a run resumed at epoch k sees the same batches as an uninterrupted one, and every epoch differs.
/// After construction nothing is allocated per batch: the host staging buffers and the tensor views are made once.
/// An optional <see cref="ISampleTransform"/> (augmentation) rewrites each image during the host gather, so every batch
/// is gathered and uploaded once.
/// With a <see cref="BatchShard"/> (data-parallel training) the iterator walks the same global batches but gathers
/// only this rank's part of each; <see cref="BatchSize"/> and <see cref="BatchesPerEpoch"/> stay global.
/// </summary>
public sealed class BatchIterator : IDisposable
{
    private readonly Dataset _data;
    private readonly int[] _order;
    private readonly float[] _stagedImages;
    private readonly int[] _stagedLabels;
    private readonly Tensor<float> _partialImages;
    private readonly Tensor<int> _partialLabels;
    private readonly ISampleTransform? _transform;
    private readonly BatchShard _shard;
    private int _epoch;

    /// <param name="dropLast">Drop the last batch when it has fewer than <paramref name="batchSize"/> samples.</param>
    /// <param name="shuffle">False keeps the dataset order (evaluation); the seed is then unused.</param>
    /// <param name="transform">Applied to every image as it is gathered (null: images are copied as they are).</param>
    /// <param name="shard">This rank's part of every batch (null: the whole batch).</param>
    public BatchIterator(Device device, Dataset data, int batchSize, int seed, bool dropLast = false, bool shuffle = true, ISampleTransform? transform = null,
        BatchShard? shard = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        _data = data;
        BatchSize = batchSize;
        Seed = seed;
        DropLast = dropLast;
        Shuffle = shuffle;
        _transform = transform;
        _shard = shard ?? BatchShard.Whole;
        if (_shard.Of(batchSize).Count == 0)
            throw new ArgumentException($"a batch of {batchSize} cannot be split over {_shard.Ranks} ranks: every rank needs at least one sample of a full batch");
        ShardSize = _shard.Of(batchSize).Count;
        _order = new int[data.Count];
        _stagedImages = new float[(long)ShardSize * data.Pixels];
        _stagedLabels = new int[ShardSize];
        Images = device.Allocate<float>(ShardSize, data.Pixels);
        Labels = device.Allocate<int>(ShardSize);
        // The short last batch gets its own views now, so that handing it out later allocates nothing.
        int rest = _shard.Of(data.Count % batchSize).Count;
        _partialImages = Images.Slice(0, rest);
        _partialLabels = Labels.Slice(0, rest);
    }

    /// <summary>Samples in a full global batch.</summary>
    public int BatchSize { get; }
    /// <summary>This rank's samples of a full batch (<see cref="BatchSize"/> without a shard).</summary>
    public int ShardSize { get; }
    public BatchShard Shard => _shard;
    public int Seed { get; }
    public bool DropLast { get; }
    public bool Shuffle { get; }
    /// <summary>The device buffer every batch is copied into: [ShardSize, Pixels].</summary>
    public Tensor<float> Images { get; }
    /// <summary>The device buffer every batch's labels are copied into: [ShardSize].</summary>
    public Tensor<int> Labels { get; }

    public int BatchesPerEpoch => DropLast ? _data.Count / BatchSize : (_data.Count + BatchSize - 1) / BatchSize;

    /// <summary>Samples in global batch <paramref name="batch"/> (all ranks together).</summary>
    public int GlobalCount(int batch) => Math.Min(BatchSize, _data.Count - batch * BatchSize);

    /// <summary>
    /// The batches of epoch <paramref name="epoch"/>. Each one is copied to the device when the enumeration reaches it
    /// and is overwritten by the next. One enumeration at a time: they share the device buffers.
    /// </summary>
    public IEnumerable<Batch> Epoch(int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        FillOrder(epoch, _order);
        _epoch = epoch;
        for (int b = 0; b < BatchesPerEpoch; b++) yield return CopyBatch(b);
    }

    /// <summary>The sample order of an epoch, a permutation of [0, Count), in a new array (an enumeration in progress is not disturbed).</summary>
    public int[] OrderOf(int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        var order = new int[_data.Count];
        FillOrder(epoch, order);
        return order;
    }

    private void FillOrder(int epoch, int[] order)
    {
        // Start from the identity every epoch so that the order depends on (seed, epoch) alone, not on earlier epochs.
        for (int i = 0; i < order.Length; i++) order[i] = i;
        if (!Shuffle) return;
        // (seed, epoch) packed into one 64-bit state: distinct pairs give distinct generators.
        var rng = new SplitMix64(((ulong)(uint)Seed << 32) | (uint)epoch);
        for (int i = order.Length - 1; i > 0; i--)
        {
            int j = rng.NextInt(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
    }

    private Batch CopyBatch(int b)
    {
        var (offset, count) = _shard.Of(GlobalCount(b));
        int start = b * BatchSize + offset;
        int pixels = _data.Pixels;
        var indices = _order.AsMemory(start, count);
        var images = _data.Images.AsSpan();
        for (int k = 0; k < count; k++)
        {
            int sample = _order[start + k];
            var image = images.Slice(sample * pixels, pixels);
            var staged = _stagedImages.AsSpan(k * pixels, pixels);
            if (_transform is null) image.CopyTo(staged);
            else _transform.Apply(_epoch, sample, image, staged);
            _stagedLabels[k] = _data.Labels[sample];
        }
        bool full = count == ShardSize;
        var imageView = full ? Images : _partialImages;
        var labelView = full ? Labels : _partialLabels;
        imageView.CopyFrom(_stagedImages.AsSpan(0, count * pixels));
        labelView.CopyFrom(_stagedLabels.AsSpan(0, count));
        return new Batch(b, imageView, labelView, indices, _stagedLabels.AsMemory(0, count));
    }

    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
    }
}
