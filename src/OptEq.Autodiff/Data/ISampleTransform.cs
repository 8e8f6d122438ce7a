namespace OptEq.Autodiff.Data;

/// <summary>
/// Rewrites one image while <see cref="BatchIterator"/> gathers a batch on the host, so an augmented batch crosses to
/// the device once. Must be a pure function of its arguments (a resumed run sees the same images) and allocate nothing.
/// </summary>
public interface ISampleTransform
{
    /// <summary>Writes the transformed <paramref name="image"/> (sample <paramref name="index"/> of the dataset, in epoch
    /// <paramref name="epoch"/> of the iterator) to <paramref name="output"/>, of the same length.</summary>
    void Apply(int epoch, int index, ReadOnlySpan<float> image, Span<float> output);
}
