using System.Diagnostics;
using OptEq.Autodiff.Data;
using OptEq.Autodiff.Evaluation;
using OptEq.Autodiff.Models;
using OptEq.Autodiff.Optimizers;
using OptEq.Autodiff.Optimizers.Ddpn;
using OptEq.Autodiff.Optimizers.Schedules;

namespace OptEq.Autodiff.Training;

/// <summary>
/// Trains a classifier: the epoch loop over shuffled mini-batches (order from (seed, epoch)), each optionally shifted
/// as it is gathered, one optimizer step per batch under the schedule, then a test evaluation and a checkpoint after
/// every epoch. The other concerns live beside it: <see cref="TrainingStep"/> (record once, replay),
/// <see cref="DivergencePolicy"/>, <see cref="Evaluator"/>, <see cref="TrainingCheckpoint"/>, <see cref="OptimizerFactory"/>.
/// Resuming from a checkpoint restores parameters, optimizer state and the epoch counter, so the continued run
/// reproduces the uninterrupted one exactly on the CPU path. A NaN or infinite loss stops training with
/// <see cref="TrainingDivergedException"/>; the last checkpoint stays.
/// </summary>
public sealed class Trainer : IDisposable
{
    private readonly Dataset _test;
    private readonly Optimizer<float> _optimizer;
    private readonly ILearningRateSchedule _schedule;
    private readonly BatchIterator _batches;
    private readonly TrainingStep _step;
    private readonly DdpnStep<float>? _ddpn;
    private readonly Evaluator _evaluator;
    private readonly float[] _logitsHost;

    public Trainer(Device device, Classifier<float> model, TrainingOptions options, Dataset train, Dataset test)
    {
        if (train.Pixels != model.Config.Input || test.Pixels != model.Config.Input)
            throw new ShapeException($"the model expects {model.Config.Input} inputs; the data has {train.Pixels} pixels per image (train) and {test.Pixels} (test)");
        if (train.Classes > model.Config.Classes)
            throw new ShapeException($"the data has {train.Classes} classes; the model has {model.Config.Classes} outputs");
        if (options.AugmentShift > 0 && train.Rows != train.Cols)
            throw new ArgumentException($"shift augmentation needs square images; these are {train.Rows}×{train.Cols}");
        Model = model;
        Options = options;
        _test = test;
        // Shifted on the host as the batch is gathered: each batch crosses to the device once.
        var augmentation = options.AugmentShift > 0
            ? new ShiftAugmentation(options.Seed, options.AugmentShift, train.Rows, (float)((0 - model.Config.InputMean) / model.Config.InputStd))
            : null;
        _batches = new BatchIterator(device, train, options.Batch, options.Seed, dropLast: false, shuffle: true, augmentation);
        _schedule = options.Schedule.Build(options.LearningRate, options.Epochs * _batches.BatchesPerEpoch);
        bool ddpn = options.Optimizer == OptimizerKind.Ddpnopt;
        if (ddpn && options.ClipNorm > 0) throw new ArgumentException("--clip is not supported with ddpnopt: it updates each layer during its own backward pass");
        _optimizer = OptimizerFactory.Create(ddpn ? options.Ddpn.Base : options.Optimizer, model.Parameters(), options.LearningRate, options.WeightDecay);
        _step = new TrainingStep(device, model, options.Batch, options.ReplaySteps);
        // DDPNOpt is its own training step over the base optimizer (docs/math.md §6): the checkpoint keeps the base's state.
        _ddpn = ddpn ? new DdpnStep<float>(device, model, _optimizer, options.Ddpn) : null;
        _evaluator = new Evaluator(device, model, options.EvalBatch);
        _logitsHost = new float[options.Batch * model.Config.Classes];
    }

    public Classifier<float> Model { get; }
    public TrainingOptions Options { get; }
    /// <summary>Epochs already completed (after a resume, the checkpoint's).</summary>
    public int CompletedEpochs { get; private set; }
    public List<EpochMetrics> History { get; } = new();
    /// <summary>Mean relative residual per iteration of the last batch's forward and backward solves (for plots): only
    /// the last batch of an epoch asks for traces, so the other steps allocate nothing.</summary>
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
        foreach (var batch in Batches(epoch))
        {
            var (loss, batchCorrect) = Step(batch, epoch);
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
        double trainSeconds = clock.Elapsed.TotalSeconds;
        var test = Evaluate(_test);
        return new EpochMetrics(epoch, lossSum / seen, correct / (double)seen, test.Loss, test.Accuracy, clock.Elapsed.TotalSeconds, seen / trainSeconds,
            forwardIterations / seen, backwardIterations / seen, converged / seen, _optimizer.LearningRate);
    }

    /// <summary>The training batches of an epoch (from 1), gathered, shifted and uploaded as the enumeration reaches them.</summary>
    internal IEnumerable<Batch> Batches(int epoch) => _batches.Epoch(epoch - 1);

    /// <summary>
    /// One optimizer step on a batch: forward and backward, the divergence check, the accuracy count, clipping and the
    /// update. Returns the batch's mean loss and correct predictions. Allocates nothing after warm-up, except on the last
    /// batch of an epoch, which records residual traces for <see cref="LastForwardTrace"/>.
    /// </summary>
    internal (float Loss, int Correct) Step(in Batch batch, int epoch)
    {
        var report = Model.Report;
        bool last = batch.Index == _batches.BatchesPerEpoch - 1;
        report.RecordTrace = last;
        _optimizer.ZeroGrad();
        var (loss, logits) = _ddpn is null ? _step.Run(batch.Images, batch.Labels) : _ddpn.Run(batch.Images, batch.Labels, _schedule);
        DivergencePolicy.Check(loss, report.ForwardNonFinite, epoch, batch.Index, CompletedEpochs);
        int correct = Predictions.CountCorrect(logits, batch.HostLabels.Span, _logitsHost);
        if (_ddpn is null)
        {
            if (Options.ClipNorm > 0) GradientClipping.ClipByGlobalNorm(_optimizer.Parameters, Options.ClipNorm);
            _optimizer.Step(_schedule);
        }
        if (last)
        {
            LastForwardTrace = ResidualTraces.Mean(report.ForwardTrace);
            LastBackwardTrace = ResidualTraces.Mean(report.BackwardTrace);
            report.RecordTrace = false;
        }
        return (loss, correct);
    }

    /// <summary>Loss, accuracy, confusion matrix and solver statistics on a dataset, in no-grad mode.</summary>
    public EvaluationResult Evaluate(Dataset data) => _evaluator.Evaluate(data);

    public void Save(string path) => TrainingCheckpoint.Save(path, Model, _optimizer, CompletedEpochs, Options.Seed);

    /// <summary>Restores parameters, optimizer state and the epoch counter from a checkpoint of the same model.</summary>
    public void Resume(string path) => CompletedEpochs = TrainingCheckpoint.Restore(path, Model, _optimizer);

    public void Dispose()
    {
        _batches.Dispose();
        _optimizer.Dispose();
        _step.Dispose();
        _ddpn?.Dispose();
        _evaluator.Dispose();
    }

    private sealed class NullObserver : ITrainingObserver;
}
