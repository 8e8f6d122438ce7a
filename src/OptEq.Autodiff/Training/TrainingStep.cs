using OptEq.Autodiff.Losses;
using OptEq.Autodiff.Models;

namespace OptEq.Autodiff.Training;

/// <summary>
/// Forward and backward of one batch. A full batch replays the step captured on the first full batch (the batch
/// iterator writes every full batch into the same tensors), which computes exactly what recording it would, without
/// building a graph or allocating. A partial last batch, and models that cannot be replayed, are recorded on a new tape.
/// </summary>
internal sealed class TrainingStep(Device device, Classifier<float> model, int batchSize, bool replay, DeviceLoss<float> loss) : IDisposable
{
    private Capture? _capture;
    private Tensor<float>? _partialLogits;

    /// <summary>A captured training step: its tape, the inputs it reads, and the variables read after each replay.</summary>
    private sealed record Capture(Tape<float> Tape, Tensor<float> Images, Tensor<int> Labels, Variable<float> Logits, Variable<float> Loss);

    /// <summary>Accumulates the gradients of the batch's mean loss (cross-entropy or MMC); returns the loss and the logits [count, classes]
    /// (valid until the next step).</summary>
    public (float Loss, Tensor<float> Logits) Run(Tensor<float> images, Tensor<int> labels)
    {
        bool full = images.Shape[0] == batchSize;
        if (full && model.SupportsReplay && replay)
        {
            if (_capture is null || !ReferenceEquals(_capture.Images, images) || !ReferenceEquals(_capture.Labels, labels))
            {
                _capture?.Tape.Dispose();
                var tape = Tape<float>.ForReplay(device);
                var logits = model.Forward(tape.Constant(images));
                var mean = loss.Mean(logits, labels);
                tape.Backward(mean);
                _capture = new Capture(tape, images, labels, logits, mean);
            }
            else _capture.Tape.Replay(_capture.Loss);
            return (ReadScalar(_capture.Loss.Value), _capture.Logits.Value);
        }
        using var recording = new Tape<float>(device);
        var recordedLogits = model.Forward(recording.Constant(images));
        var recordedLoss = loss.Mean(recordedLogits, labels);
        recording.Backward(recordedLoss);
        // This tape gives its tensors back when it is disposed below, so the logits are copied out for the accuracy count.
        _partialLogits ??= device.Allocate<float>(batchSize, model.Config.Classes);
        var partial = _partialLogits.Slice(0, images.Shape[0]);
        device.Copy(recordedLogits.Value, partial);
        return (ReadScalar(recordedLoss.Value), partial);
    }

    internal static float ReadScalar(Tensor<float> scalar)
    {
        Span<float> host = stackalloc float[1];
        scalar.CopyTo(host);
        return host[0];
    }

    public void Dispose()
    {
        _capture?.Tape.Dispose();
        _capture = null;
        _partialLogits?.Dispose();
    }
}
