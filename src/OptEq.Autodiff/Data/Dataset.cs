using OptEq.Autodiff.Validation;

namespace OptEq.Autodiff.Data;

/// <summary>
/// A labelled image set in host memory: <see cref="Images"/> is float32 [Count, Pixels] row-major with pixels scaled to
/// [0, 1] (byte / 255) unless <see cref="Standardize"/> was applied; <see cref="Labels"/> are in [0, Classes).
/// </summary>
public sealed class Dataset
{
    public Dataset(string name, float[] images, int[] labels, int rows, int cols, int classes)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        if (rows <= 0 || cols <= 0) throw new ArgumentException($"{name}: image shape {rows}×{cols} must be positive");
        if (classes < 0) throw new ArgumentException($"{name}: negative number of classes {classes}");
        if (images.LongLength != (long)labels.Length * rows * cols)
            throw new ArgumentException($"{name}: {labels.Length} labels need {(long)labels.Length * rows * cols} pixels of {rows}×{cols} images, got {images.Length}");
        int bad = Array.FindIndex(labels, l => l < 0 || l >= classes);
        if (bad >= 0) throw new ArgumentException($"{name}: label {labels[bad]} at index {bad} is outside [0, {classes})");
        Name = name;
        Images = images;
        Labels = labels;
        Rows = rows;
        Cols = cols;
        Classes = classes;
    }

    /// <summary>What the set is, for messages (e.g. "train").</summary>
    public string Name { get; }
    /// <summary>[Count, Pixels], row-major: image i is elements [i·Pixels, (i+1)·Pixels).</summary>
    public float[] Images { get; }
    public int[] Labels { get; }
    public int Rows { get; }
    public int Cols { get; }
    public int Classes { get; }
    public int Count => Labels.Length;
    public int Pixels => Rows * Cols;

    public ReadOnlySpan<float> Image(int index) => Images.AsSpan(checked(index * Pixels), Pixels);

    /// <summary>
    /// Splits off the last <paramref name="count"/> images as a held-out set (named <paramref name="heldOutName"/>); the
    /// rest keeps this set's name. Both are copies, so standardising one leaves the other alone. The file's order decides
    /// (for MNIST the last 10,000 training images are the usual validation set), so the split is the same on every run.
    /// </summary>
    public (Dataset Kept, Dataset HeldOut) SplitTail(int count, string heldOutName = "holdout")
    {
        if (count <= 0 || count >= Count) throw new ArgumentOutOfRangeException(nameof(count), count, $"{Name}: a held-out part must leave images on both sides (1 … {Count - 1})");
        int kept = Count - count;
        var keptSet = new Dataset(Name, Images.AsSpan(0, kept * Pixels).ToArray(), Labels.AsSpan(0, kept).ToArray(), Rows, Cols, Classes);
        var heldOut = new Dataset(heldOutName, Images.AsSpan(kept * Pixels).ToArray(), Labels.AsSpan(kept).ToArray(), Rows, Cols, Classes);
        return (keptSet, heldOut);
    }

    /// <summary>
    /// Builds a set from an image file (count × rows × cols) and a label file read by <see cref="IdxReader"/>.
    /// <paramref name="classes"/> defaults to the largest label + 1; when given, every label must be below it.
    /// </summary>
    public static Dataset FromIdx(string name, IdxArray images, IdxArray labels, int? classes = null)
    {
        if (images.Dimensions.Length != 3)
            throw InputException.Content(images.Source, $"an image file needs 3 dimensions (count, rows, cols), got {images.Dimensions.Length}");
        if (labels.Dimensions.Length != 1)
            throw InputException.Content(labels.Source, $"a label file needs 1 dimension, got {labels.Dimensions.Length}");
        if (images.Count != labels.Count)
            throw InputException.Content(labels.Source, $"has {labels.Count} labels but {images.Source} has {images.Count} images");
        int rows = images.Dimensions[1], cols = images.Dimensions[2];
        if (rows == 0 || cols == 0)
            throw InputException.Content(images.Source, $"images of {rows}×{cols} pixels are empty");

        int maxLabel = MaxLabel(labels);
        int classCount = classes ?? maxLabel + 1;
        if (classCount < 0) throw new ArgumentOutOfRangeException(nameof(classes), $"negative number of classes {classCount}");
        if (maxLabel >= classCount)
        {
            int at = Array.FindIndex(labels.Data, l => l >= classCount);
            throw InputException.Content(labels.Source, $"label {labels.Data[at]} at index {at} is outside [0, {classCount}) ({classCount} classes)");
        }

        var pixels = new float[images.Data.Length];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = images.Data[i] / 255f;
        var labelValues = Array.ConvertAll(labels.Data, l => (int)l);
        return new Dataset(name, pixels, labelValues, rows, cols, classCount);
    }

    /// <summary>Largest label in a label file; −1 when it is empty.</summary>
    internal static int MaxLabel(IdxArray labels) => labels.Data.Length == 0 ? -1 : labels.Data.Max();

    /// <summary>Mean and (population) standard deviation over every pixel of every image, accumulated in float64.</summary>
    public (double Mean, double Std) PixelStatistics()
    {
        if (Images.Length == 0) return (0, 0);
        double sum = 0, sumSquares = 0;
        foreach (float x in Images)
        {
            sum += x;
            sumSquares += (double)x * x;
        }
        double mean = sum / Images.Length;
        return (mean, Math.Sqrt(Math.Max(0, sumSquares / Images.Length - mean * mean)));
    }

    /// <summary>
    /// In place: every pixel x ← (x − mean) / std. Use the training set's <see cref="PixelStatistics"/> for both sets,
    /// so that the test set sees the same transformation.
    /// </summary>
    public void Standardize(double mean, double std)
    {
        if (!double.IsFinite(mean) || !double.IsFinite(std) || std <= 0)
            throw new ArgumentOutOfRangeException(nameof(std), $"standardize needs a finite mean and a positive std, got mean {mean}, std {std}");
        float m = (float)mean, inv = (float)(1 / std);
        for (int i = 0; i < Images.Length; i++) Images[i] = (Images[i] - m) * inv;
    }

    public override string ToString() => $"{Name}: {Count} images of {Rows}×{Cols}, {Classes} classes";
}
