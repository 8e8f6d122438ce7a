using System.Numerics;

namespace OptEq.Kernels;

/// <summary>Losses: softmax cross-entropy and the Max-Mahalanobis centre (MMC) loss, each with its gradient, one row per sample.</summary>
public static class LossExtensions
{
    /// <summary>
    /// Per row: loss[i] ← −log softmax(logits[i])[labels[i]]; where given, gradient[i] ← scale·(softmax(logits[i]) − onehot(labels[i])).
    /// A label outside [0, classes) gives a NaN loss for that row (labels are validated when data is loaded).
    /// </summary>
    public static void SoftmaxCrossEntropy<T>(this Device device, Tensor<T> logits, Tensor<int> labels, Tensor<T> loss, Tensor<T>? gradient, T gradientScale)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        device.CheckSameDevice("softmax-cross-entropy", logits, loss, gradient ?? logits);
        if (labels.Device != device) throw new ArgumentException("softmax-cross-entropy: labels live on another device");
        var (rows, cols) = Checks.Matrix("softmax-cross-entropy", "logits", logits);
        if (labels.Length != rows || !labels.IsContiguous)
            throw new ShapeException($"softmax-cross-entropy: labels must be contiguous with {rows} elements (one per row of logits {ShapeUtil.Format(logits.Shape)}), got {ShapeUtil.Format(labels.Shape)}");
        if (loss.Length != rows || !loss.IsContiguous)
            throw new ShapeException($"softmax-cross-entropy: loss must be contiguous with {rows} elements, got {ShapeUtil.Format(loss.Shape)}");
        if (gradient is not null) Checks.SameMatrixShape("softmax-cross-entropy (gradient)", logits, gradient);
        device.Family<ILossBackend>().SoftmaxCrossEntropy(rows, cols, MatrixView<T>.Of(logits), MatrixView<int>.Vector(labels), MatrixView<T>.Vector(loss),
            MatrixView<T>.OfOptional(gradient), gradientScale);
    }

    /// <summary>
    /// The Max-Mahalanobis centre loss per row (docs/math.md §7.9): loss[i] ← ½‖f_i − μ_{labels[i]}‖²; where given,
    /// gradient[i] ← scale·(f_i − μ_{labels[i]}). <paramref name="centres"/> [classes, cols] holds the fixed centres μ_k as
    /// rows. A label outside [0, classes) gives a NaN loss and a NaN gradient row, as for the cross-entropy.
    /// </summary>
    public static void MmcLoss<T>(this Device device, Tensor<T> features, Tensor<int> labels, Tensor<T> centres, Tensor<T> loss, Tensor<T>? gradient, T gradientScale)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        device.CheckSameDevice("mmc-loss", features, centres, loss, gradient ?? features);
        if (labels.Device != device) throw new ArgumentException("mmc-loss: labels live on another device");
        var (rows, cols) = Checks.Matrix("mmc-loss", "features", features);
        var (classes, centreCols) = Checks.Matrix("mmc-loss", "centres", centres);
        if (centreCols != cols)
            throw new ShapeException($"mmc-loss: centres {ShapeUtil.Format(centres.Shape)} must have as many columns as the features {ShapeUtil.Format(features.Shape)}");
        if (labels.Length != rows || !labels.IsContiguous)
            throw new ShapeException($"mmc-loss: labels must be contiguous with {rows} elements (one per row of features {ShapeUtil.Format(features.Shape)}), got {ShapeUtil.Format(labels.Shape)}");
        if (loss.Length != rows || !loss.IsContiguous)
            throw new ShapeException($"mmc-loss: loss must be contiguous with {rows} elements, got {ShapeUtil.Format(loss.Shape)}");
        if (gradient is not null) Checks.SameMatrixShape("mmc-loss (gradient)", features, gradient);
        device.Family<ILossBackend>().MmcLoss(rows, cols, classes, MatrixView<T>.Of(features), MatrixView<int>.Vector(labels), MatrixView<T>.Of(centres),
            MatrixView<T>.Vector(loss), MatrixView<T>.OfOptional(gradient), gradientScale);
    }
}

/// <summary>What a backend implements for the loss family; an absent gradient is not written.</summary>
internal interface ILossBackend
{
    void SoftmaxCrossEntropy<T>(int rows, int cols, MatrixView<T> logits, MatrixView<int> labels, MatrixView<T> loss, MatrixView<T> gradient, T gradientScale)
        where T : unmanaged, IFloatingPointIeee754<T>;

    void MmcLoss<T>(int rows, int cols, int classes, MatrixView<T> features, MatrixView<int> labels, MatrixView<T> centres, MatrixView<T> loss, MatrixView<T> gradient, T gradientScale)
        where T : unmanaged, IFloatingPointIeee754<T>;
}
