namespace OptEq.Autodiff.Losses;

/// <summary>
/// A <see cref="ClassificationLoss"/> on a device: the MMC centres uploaded once (nothing is allocated per step), the
/// batch-mean loss as a tape op, the per-row kernels for steps that run their own backward pass (DDPNOpt), and the
/// prediction rule on the host.
/// </summary>
public sealed class DeviceLoss<T> : IDisposable where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Device _device;
    private readonly Tensor<T>? _centres;
    private readonly double[] _hostCentres;

    /// <param name="classes">The model's outputs (one per class): the MMC centres live in that space.</param>
    public DeviceLoss(Device device, ClassificationLoss loss, int classes)
    {
        ArgumentNullException.ThrowIfNull(device);
        Loss = loss ?? throw new ArgumentNullException(nameof(loss));
        _device = device;
        Classes = classes;
        _hostCentres = loss.Centres(classes);
        if (loss.Kind == LossKind.Mmc) _centres = device.FromArray(Array.ConvertAll(_hostCentres, v => T.CreateChecked(v)), classes, classes);
    }

    public ClassificationLoss Loss { get; }
    public int Classes { get; }

    /// <summary>The batch's mean loss [1] of the model's outputs [batch, classes], recorded on their tape.</summary>
    public Variable<T> Mean(Variable<T> outputs, Tensor<int> labels) => _centres is null
        ? Ops.SoftmaxCrossEntropy(outputs, labels, out _)
        : Ops.MmcLoss(outputs, labels, _centres, out _);

    /// <summary>Per row, the loss and (where given) <paramref name="gradientScale"/>·∂ℓ/∂f: the kernels <see cref="Mean"/> runs.</summary>
    public void PerRow(Tensor<T> outputs, Tensor<int> labels, Tensor<T> loss, Tensor<T>? gradient, T gradientScale)
    {
        if (_centres is null) _device.SoftmaxCrossEntropy(outputs, labels, loss, gradient, gradientScale);
        else _device.MmcLoss(outputs, labels, _centres, loss, gradient, gradientScale);
    }

    /// <summary>The predicted class of one output row (host): the argmax, or for MMC the nearest centre (<see cref="Evaluation.Predictions.Predict"/>).</summary>
    public int Predict(ReadOnlySpan<float> row) => Evaluation.Predictions.Predict(row, _hostCentres);

    /// <summary>The MMC centres [classes, classes] row-major on the host; empty for the cross-entropy.</summary>
    public ReadOnlySpan<double> HostCentres => _hostCentres;

    public void Dispose() => _centres?.Dispose();
}
