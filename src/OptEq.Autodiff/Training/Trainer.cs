using System.Diagnostics;
using OptEq.Autodiff.Checkpoints;
using OptEq.Autodiff.Data;
using OptEq.Autodiff.Models;
using OptEq.Autodiff.Optimizers;
using OptEq.Autodiff.Optimizers.Schedules;

namespace OptEq.Autodiff.Training;

/// <summary>
/// Trains a classifier: shuffled mini-batches (order from (seed, epoch)), optional shift augmentation, the optimizer
/// and schedule, a test evaluation and a checkpoint after every epoch. Resuming from a checkpoint restores parameters,
/// optimizer state and the epoch counter, so the continued run reproduces the uninterrupted one exactly on the CPU
/// path. A NaN or infinite loss stops training with <see cref="TrainingDivergedException"/>; the last checkpoint stays.
/// </summary>
public sealed class Trainer : IDisposable
{
    private readonly Device _device;
    private readonly Dataset _train, _test;
    private readonly Optimizer<float> _optimizer;
    private readonly ILearningRateSchedule _schedule;
    private readonly BatchIterator _batches;
    private readonly Tensor<float> _augmented;
    private readonly float[] _augmentHost;
    private readonly float[] _logitsHost;
    private readonly float _background;
    private StepCapture? _capture; // the full-batch training step, recorded once and replayed for every full batch

    /// <summary>A captured training step: its tape, the inputs it reads, and the variables read after each replay.</summary>
    private sealed record StepCapture(Tape<float> Tape, Tensor<float> Images, Tensor<int> Labels, Variable<float> Logits, Variable<float> Loss);

    public Trainer(Device device, Classifier<float> model, TrainingOptions options, Dataset train, Dataset test)
    {
        if (train.Pixels != model.Config.Input || test.Pixels != model.Config.Input)
            throw new ShapeException($"the model expects {model.Config.Input} inputs; the data has {train.Pixels} pixels per image (train) and {test.Pixels} (test)");
        if (train.Classes > model.Config.Classes)
            throw new ShapeException($"the data has {train.Classes} classes; the model has {model.Config.Classes} outputs");
        if (options.AugmentShift > 0 && train.Rows != train.Cols)
            throw new ArgumentException($"shift augmentation needs square images; these are {train.Rows}×{train.Cols}");
        _device = device;
        Model = model;
        Options = options;
        _train = train;
        _test = test;
        _batches = new BatchIterator(device, train, options.Batch, options.Seed, dropLast: false, shuffle: true);
        int totalSteps = options.Epochs * _batches.BatchesPerEpoch;
        _schedule = LearningRateSchedules.Parse(options.Schedule, options.LearningRate, totalSteps);
        var parameters = model.Parameters().ToList();
        _optimizer = options.Optimizer.ToLowerInvariant() switch
        {
            "adam" => new Adam<float>(parameters, new AdamOptions { LearningRate = options.LearningRate, WeightDecay = options.WeightDecay }),
            "adamw" => new AdamW<float>(parameters, new AdamWOptions { LearningRate = options.LearningRate, WeightDecay = options.WeightDecay }),
            "sgd" => new Sgd<float>(parameters, new SgdOptions { LearningRate = options.LearningRate, Momentum = 0.9, Nesterov = true, WeightDecay = options.WeightDecay }),
            _ => throw new ArgumentException($"unknown optimizer '{options.Optimizer}'; valid: {string.Join(", ", TrainingOptions.Optimizers)}"),
        };
        _augmented = device.Allocate<float>(options.Batch, train.Pixels);
        _augmentHost = new float[options.Batch * train.Pixels];
        _logitsHost = new float[Math.Max(options.Batch, options.EvalBatch) * model.Config.Classes];
        _background = (float)((0 - model.Config.InputMean) / model.Config.InputStd);
    }

    public Classifier<float> Model { get; }
    public TrainingOptions Options { get; }
    /// <summary>Epochs already completed (after a resume, the checkpoint's).</summary>
    public int CompletedEpochs { get; private set; }
    public List<EpochMetrics> History { get; } = new();
    /// <summary>Mean relative residual per iteration of the last batch's forward and backward solves (for plots).</summary>
    public double[] LastForwardTrace { get; private set; } = [];
    public double[] LastBackwardTrace { get; private set; } = [];

    /// <summary>Runs the remaining epochs; after each, saves a checkpoint to <paramref name="checkpointPath"/> (when given).</summary>
    public void Run(ITrainingObserver? observer = null, string? checkpointPath = null, Func<int, bool>? stopAfterEpoch = null)
    {
        observer ??= new NullObserver();
        for (int epoch = CompletedEpochs + 1; epoch <= Options.Epochs; epoch++)
        {
            var metrics = TrainEpoch(epoch, observer);
            History.Add(metrics);
            CompletedEpochs = epoch;
            if (checkpointPath is not null) Save(checkpointPath);
            observer.EpochFinished(metrics);
            if (stopAfterEpoch?.Invoke(epoch) == true) break;
        }
    }

    private EpochMetrics TrainEpoch(int epoch, ITrainingObserver observer)
    {
        var clock = Stopwatch.StartNew();
        int batches = _batches.BatchesPerEpoch, seen = 0, correct = 0;
        double lossSum = 0, forwardIterations = 0, backwardIterations = 0, converged = 0;
        observer.EpochStarted(epoch, batches);
        foreach (var batch in _batches.Epoch(epoch - 1))
        {
            var images = Options.AugmentShift > 0 ? Augment(batch, epoch) : batch.Images;
            _optimizer.ZeroGrad();
            var (loss, logits) = ForwardBackward(images, batch.Labels);
            // The solver isolates a non-finite sample (it keeps its initial state), so the loss alone can stay finite
            // while the model has broken: both are divergence. Checked before the optimizer touches the parameters.
            int nonFinite = Model.Report.ForwardNonFinite;
            if (!float.IsFinite(loss) || nonFinite > 0)
                throw new TrainingDivergedException((float.IsFinite(loss)
                    ? $"the equilibrium solve met NaN or infinity for {nonFinite} samples at epoch {epoch}, batch {batch.Index + 1}"
                    : $"the loss became {loss} at epoch {epoch}, batch {batch.Index + 1}") + "; training stopped" +
                    (CompletedEpochs > 0 ? $" and the checkpoint of epoch {CompletedEpochs} was kept" : "") + " (try a lower --lr or --clip)");
            int batchCorrect = CountCorrect(logits, batch.Labels, batch.Count);
            if (Options.ClipNorm > 0) GradientClipping.ClipByGlobalNorm(_optimizer.Parameters, Options.ClipNorm);
            _optimizer.Step(_schedule);
            seen += batch.Count;
            correct += batchCorrect;
            lossSum += loss * batch.Count;
            var report = Model.Report;
            forwardIterations += report.ForwardMeanIterations * batch.Count;
            backwardIterations += report.BackwardMeanIterations * batch.Count;
            converged += report.ForwardConverged * batch.Count;
            observer.BatchFinished(new BatchProgress(epoch, batch.Index + 1, batches, lossSum / seen, correct / (double)seen,
                forwardIterations / seen, backwardIterations / seen, seen / clock.Elapsed.TotalSeconds));
        }
        LastForwardTrace = MeanTrace(Model.Report.ForwardTrace);
        LastBackwardTrace = MeanTrace(Model.Report.BackwardTrace);
        double trainSeconds = clock.Elapsed.TotalSeconds;
        var (testLoss, testAccuracy) = Evaluate(_test);
        return new EpochMetrics(epoch, lossSum / seen, correct / (double)seen, testLoss, testAccuracy, clock.Elapsed.TotalSeconds, seen / trainSeconds,
            forwardIterations / seen, backwardIterations / seen, converged / seen, _optimizer.LearningRate);
    }

    /// <summary>
    /// Forward and backward of one batch; returns the loss and the logits. A full batch replays the step captured on the
    /// first full batch (the batch iterator and the augmentation write every full batch into the same tensors), which
    /// computes exactly what recording it would, without building a graph or allocating. A partial last batch, and
    /// models that cannot be replayed, are recorded on a new tape.
    /// </summary>
    private (float Loss, Tensor<float> Logits) ForwardBackward(Tensor<float> images, Tensor<int> labels)
    {
        bool full = images.Shape[0] == Options.Batch;
        if (full && Model.SupportsReplay && Options.ReplaySteps)
        {
            if (_capture is null || !ReferenceEquals(_capture.Images, images) || !ReferenceEquals(_capture.Labels, labels))
            {
                _capture?.Tape.Dispose();
                var tape = Tape<float>.ForReplay(_device);
                var logits = Model.Forward(tape.Constant(images));
                var loss = Ops.SoftmaxCrossEntropy(logits, labels, out _);
                tape.Backward(loss);
                _capture = new StepCapture(tape, images, labels, logits, loss);
            }
            else _capture.Tape.Replay(_capture.Loss);
            return (ReadScalar(_capture.Loss.Value), _capture.Logits.Value);
        }
        using var recording = new Tape<float>(_device);
        var recordedLogits = Model.Forward(recording.Constant(images));
        var recordedLoss = Ops.SoftmaxCrossEntropy(recordedLogits, labels, out _);
        recording.Backward(recordedLoss);
        // This tape gives its tensors back when it is disposed below, so the logits are copied out for the accuracy count.
        _lastPartialLogits ??= _device.Allocate<float>(Options.Batch, Model.Config.Classes);
        var partial = _lastPartialLogits.Slice(0, images.Shape[0]);
        _device.Copy(recordedLogits.Value, partial);
        return (ReadScalar(recordedLoss.Value), partial);
    }

    private Tensor<float>? _lastPartialLogits;

    private static float ReadScalar(Tensor<float> scalar)
    {
        Span<float> host = stackalloc float[1];
        scalar.CopyTo(host);
        return host[0];
    }

    /// <summary>Mean loss and accuracy on a dataset, in no-grad mode.</summary>
    public (double Loss, double Accuracy) Evaluate(Dataset data, int[,]? confusion = null)
    {
        using var iterator = new BatchIterator(_device, data, Options.EvalBatch, seed: 0, dropLast: false, shuffle: false);
        double lossSum = 0;
        int correct = 0;
        foreach (var batch in iterator.Epoch(0))
        {
            using var tape = Tape<float>.NoGrad(_device);
            var logits = Model.Forward(tape.Constant(batch.Images));
            var loss = Ops.SoftmaxCrossEntropy(logits, batch.Labels, out _);
            lossSum += loss.Value.ToArray()[0] * batch.Count;
            correct += CountCorrect(logits.Value, batch.Labels, batch.Count, confusion);
        }
        return (lossSum / data.Count, correct / (double)data.Count);
    }

    private int CountCorrect(Tensor<float> logits, Tensor<int> labels, int count, int[,]? confusion = null)
    {
        int classes = logits.Shape[1];
        var host = _logitsHost.AsSpan(0, count * classes);
        logits.Slice(0, count).CopyTo(host);
        var truth = labels.Slice(0, count).ToArray();
        int correct = 0;
        for (int s = 0; s < count; s++)
        {
            int best = 0;
            for (int c = 1; c < classes; c++) if (host[s * classes + c] > host[s * classes + best]) best = c;
            if (best == truth[s]) correct++;
            if (confusion is not null) confusion[truth[s], best]++;
        }
        return correct;
    }

    private Tensor<float> Augment(Batch batch, int epoch)
    {
        int side = _train.Rows, pixels = _train.Pixels, max = Options.AugmentShift;
        var indices = batch.Indices.Span;
        for (int s = 0; s < batch.Count; s++)
        {
            int index = indices[s];
            int dx = ShiftAugmentation.Draw(Options.Seed, epoch, index, 0, max), dy = ShiftAugmentation.Draw(Options.Seed, epoch, index, 1, max);
            ShiftAugmentation.Shift(_train.Image(index), _augmentHost.AsSpan(s * pixels, pixels), side, dx, dy, _background);
        }
        var view = batch.Count == _augmented.Shape[0] ? _augmented : _augmented.Slice(0, batch.Count);
        view.CopyFrom(_augmentHost.AsSpan(0, batch.Count * pixels));
        // A full batch is the whole buffer itself, the same tensor every time (a captured step reads it on replay).
        return batch.Count == _augmented.Shape[0] ? _augmented : view;
    }

    private static double[] MeanTrace(double[,]? trace)
    {
        if (trace is null) return [];
        int iterations = trace.GetLength(0), batch = trace.GetLength(1);
        var mean = new double[iterations];
        for (int k = 0; k < iterations; k++)
        {
            double sum = 0;
            for (int i = 0; i < batch; i++) sum += trace[k, i];
            mean[k] = sum / batch;
        }
        return mean;
    }

    // ---- checkpoints --------------------------------------------------------------------------------

    public void Save(string path)
    {
        var checkpoint = new Checkpoint(Model.Config.ToJson()) { Epoch = CompletedEpochs, Step = _optimizer.StepCount };
        checkpoint.Seeds["training"] = Options.Seed;
        checkpoint.AddParameters(Model.Parameters());
        checkpoint.AddGroup(Checkpoint.OptimizerGroup, _optimizer.State());
        checkpoint.Save(path);
    }

    /// <summary>Restores parameters, optimizer state and the epoch counter from a checkpoint of the same model.</summary>
    public void Resume(string path)
    {
        var checkpoint = Checkpoint.Load(path);
        var config = ModelConfig.FromJson(checkpoint.Config, path);
        if (config.ToJson() != Model.Config.ToJson())
            throw new InvalidDataException($"{path}: the checkpoint is of another model ({config.ToJson()}); this run builds {Model.Config.ToJson()}");
        checkpoint.RestoreParameters(Model.Parameters());
        // RestoreGroup writes the optimizer's state tensors in place (all or nothing); only the step count remains.
        checkpoint.RestoreGroup(Checkpoint.OptimizerGroup, _optimizer.State(), "optimizer state", "the optimizer");
        _optimizer.StepCount = (int)checkpoint.Step;
        CompletedEpochs = (int)checkpoint.Epoch;
    }

    public void Dispose()
    {
        _batches.Dispose();
        _augmented.Dispose();
        _optimizer.Dispose();
        _capture?.Tape.Dispose();
        _lastPartialLogits?.Dispose();
    }

    private sealed class NullObserver : ITrainingObserver;
}
