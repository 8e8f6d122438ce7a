namespace OptEq.Autodiff.Data;

/// <summary>
/// One mini-batch from a <see cref="BatchIterator"/>. The tensors are views of the iterator's device buffers: the
/// next batch overwrites them, so use a batch before asking for the next one.
/// </summary>
public readonly struct Batch(int index, Tensor<float> images, Tensor<int> labels, ReadOnlyMemory<int> indices, ReadOnlyMemory<int> hostLabels = default)
{
    /// <summary>Position of the batch within its epoch.</summary>
    public int Index { get; } = index;
    /// <summary>Number of samples (the batch size, or fewer for a kept last partial batch).</summary>
    public int Count => Indices.Length;
    /// <summary>[Count, Pixels] on the device.</summary>
    public Tensor<float> Images { get; } = images;
    /// <summary>[Count] on the device.</summary>
    public Tensor<int> Labels { get; } = labels;
    /// <summary>The dataset indices of the samples, in batch order.</summary>
    public ReadOnlyMemory<int> Indices { get; } = indices;
    /// <summary>The labels as the host gathered them (the same values as <see cref="Labels"/>), so counting correct
    /// predictions needs no download; empty for a batch made without them. Overwritten by the next batch.</summary>
    public ReadOnlyMemory<int> HostLabels { get; } = hostLabels;
}
