using System.Diagnostics;
using OptEq.Autodiff.Data;
using OptEq.Autodiff.Distributed;
using OptEq.Autodiff.Evaluation;
using OptEq.Autodiff.Losses;
using OptEq.Autodiff.Models;
using OptEq.Autodiff.Optimizers;
using OptEq.Autodiff.Optimizers.Ddpn;
using OptEq.Autodiff.Optimizers.Schedules;

namespace OptEq.Autodiff.Training;

/// <summary>
/// Trains a classifier: the epoch loop over shuffled mini-batches (order from (seed, epoch)), each optionally shifted
/// as it is gathered, one optimizer step per batch under the schedule on the options' loss (cross-entropy or MMC), then a test evaluation and a checkpoint after
/// every epoch. The other concerns live beside it: <see cref="TrainingStep"/> (record once, replay),
/// <see cref="DivergencePolicy"/>, <see cref="Evaluator"/>, <see cref="TrainingCheckpoint"/>, <see cref="OptimizerFactory"/>.
/// Resuming from a checkpoint restores parameters, optimizer state and the epoch counter, so the continued run
/// reproduces the uninterrupted one exactly on the CPU path. A NaN or infinite loss stops training with
/// <see cref="TrainingDivergedException"/>; the last checkpoint stays.
/// With an <see cref="ITrainingCommunicator"/> of several ranks it trains data-parallel: each rank takes its
/// <see cref="BatchShard"/> of every global batch, <see cref="GradientBuckets"/> averages the gradients before the
/// step, and the epoch's figures are reduced over the ranks (see docs/distributed.md).
/// </summary>
public sealed class Trainer : IDisposable
{
    private readonly Dataset _test;
    private readonly Optimizer<float> _optimizer;
    private readonly ILearningRateSchedule _schedule;
    private readonly BatchIterator _batches;
    private readonly DeviceLoss<float> _loss;
    private readonly TrainingStep _step;
    private readonly DdpnStep<float>? _ddpn;
    private readonly Evaluator _evaluator;
    private readonly float[] _logitsHost;
    private readonly ITrainingCommunicator _communicator;
    private readonly GradientBuckets? _gradients; // null in a single process

    /// <param name="communicator">The ranks of a data-parallel run (null: this process alone).</param>
    public Trainer(Device device, Classifier<float> model, TrainingOptions options, Dataset train, Dataset test, ITrainingCommunicator? communicator = null)
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
        _communicator = communicator ?? SingleProcess.Instance;
        bool ddpn = options.Optimizer == OptimizerKind.Ddpnopt;
        if (ddpn && options.ClipNorm > 0) throw new ArgumentException("--clip is not supported with ddpnopt: it updates each layer during its own backward pass");
        // DDPNOpt updates each layer inside its own backward pass, so there is no whole-model gradient to average across ranks.
        if (ddpn && _communicator.Ranks > 1) throw new ArgumentException("--optimizer ddpnopt runs in one process; run it without mpirun");
        var shard = new BatchShard(_communicator.Rank, _communicator.Ranks);
        _batches = new BatchIterator(device, train, options.Batch, options.Seed, dropLast: false, shuffle: true, augmentation, shard);
        try
        {
            _schedule = options.Schedule.Build(options.LearningRate, options.Epochs * _batches.BatchesPerEpoch);
            _optimizer = OptimizerFactory.Create(ddpn ? options.Ddpn.Base : options.Optimizer, model.Parameters(), options.LearningRate, options.WeightDecay);
            _loss = new DeviceLoss<float>(device, options.Loss, model.Config.Classes);
            _step = new TrainingStep(device, model, _batches.ShardSize, options.ReplaySteps, _loss);
            // DDPNOpt is its own training step over the base optimizer (docs/math.md §6): the checkpoint keeps the base's state.
            _ddpn = ddpn ? new DdpnStep<float>(device, model, _optimizer, options.Ddpn, options.Loss) : null;
            _evaluator = new Evaluator(device, model, options.EvalBatch, options.Loss);
            _logitsHost = new float[_batches.ShardSize * model.Config.Classes];
            if (_communicator.Ranks > 1) _gradients = new GradientBuckets(_communicator, _optimizer.Parameters);
            _dataFingerprint = TrainingRecord.Fingerprint(train);
        }
        catch
        {
            // A refusal (DDPNOpt on a model it cannot step, say) must not leave the parts built so far undisposed.
            Dispose();
            throw;
        }
    }

    private readonly string _dataFingerprint;

    /// <summary>The best test accuracy of any completed epoch (−1 before the first), and its epoch; kept across resumes.</summary>
    public double BestTestAccuracy { get; private set; } = -1;
    public int BestEpoch { get; private set; }

    /// <summary>What a checkpoint stores besides the tensors: options, data fingerprint, best accuracy, history.</summary>
    public TrainingRecord Record => TrainingRecord.Of(Options, _dataFingerprint) with { BestTestAccuracy = BestTestAccuracy, BestEpoch = BestEpoch, History = [.. History] };

    /// <summary>The best checkpoint kept beside <paramref name="checkpointPath"/>: <c>best.safetensors</c> in the same folder.</summary>
    public static string BestCheckpointPath(string checkpointPath) => Path.Combine(Path.GetDirectoryName(Path.GetFullPath(checkpointPath))!, "best.safetensors");

    public Classifier<float> Model { get; }
    public TrainingOptions Options { get; }
    /// <summary>Epochs already completed (after a resume, the checkpoint's).</summary>
    public int CompletedEpochs { get; private set; }
    public List<EpochMetrics> History { get; } = new();
    /// <summary>Mean relative residual per iteration of the last batch's forward and backward solves (for plots): only
    /// the last batch of an epoch asks for traces, so the other steps allocate nothing.</summary>
    public double[] LastForwardTrace { get; private set; } = [];
    public double[] LastBackwardTrace { get; private set; } = [];
    /// <summary>The ranks training together (1: a single process).</summary>
    public int Ranks => _communicator.Ranks;
    /// <summary>Wall time per optimizer step spent averaging gradients over the ranks (0 in a single process).</summary>
    public double AllreduceSecondsPerStep => _gradients is { Steps: > 0 } g ? g.AllreduceSeconds / g.Steps : 0;

    /// <summary>
    /// Runs the remaining epochs; after each, saves a checkpoint to <paramref name="checkpointPath"/> (when given) and, when
    /// the test accuracy beats every earlier epoch, the same state to <see cref="BestCheckpointPath"/>. An epoch that
    /// diverged (<see cref="DivergencePolicy.CheckEpoch"/>) is never saved: both files keep their earlier state.
    /// </summary>
    public void Run(ITrainingObserver? observer = null, string? checkpointPath = null, Func<int, bool>? stopAfterEpoch = null)
    {
        observer ??= new NullObserver();
        // Every rank starts from rank 0's parameters (fresh or resumed), whatever its own initialisation did.
        _gradients?.BroadcastValues();
        for (int epoch = CompletedEpochs + 1; epoch <= Options.Epochs; epoch++)
        {
            var metrics = TrainEpoch(epoch, observer);
            DivergencePolicy.CheckEpoch(metrics, History, Model, CompletedEpochs, Options.Loss);
            History.Add(metrics);
            CompletedEpochs = epoch;
            bool best = metrics.TestAccuracy > BestTestAccuracy;
            if (best) (BestTestAccuracy, BestEpoch) = (metrics.TestAccuracy, epoch);
            if (checkpointPath is not null)
            {
                Save(checkpointPath);
                if (best) Save(BestCheckpointPath(checkpointPath));
            }
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
            if (batch.Count == 0) continue; // an empty shard of a short last batch: nothing to count
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
        if (_communicator.Ranks > 1)
        {
            // The epoch's figures over all ranks: sums of the per-sample totals; the slowest rank's time.
            Span<double> sums = [seen, correct, lossSum, forwardIterations, backwardIterations, converged];
            _communicator.AllReduceSum(sums);
            (seen, correct, lossSum, forwardIterations, backwardIterations, converged) = ((int)sums[0], (int)sums[1], sums[2], sums[3], sums[4], sums[5]);
            Span<double> slowest = [trainSeconds];
            _communicator.AllReduceMax(slowest);
            trainSeconds = slowest[0];
        }
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
        float loss = 0;
        int correct = 0;
        if (batch.Count > 0)
        {
            (loss, var logits) = _ddpn is null ? _step.Run(batch.Images, batch.Labels) : _ddpn.Run(batch.Images, batch.Labels, _schedule);
            DivergencePolicy.Check(loss, report.ForwardNonFinite, epoch, batch.Index, CompletedEpochs);
            DivergencePolicy.CheckBound(loss, Model.Config.Classes, epoch, batch.Index, CompletedEpochs, Options.Loss);
            correct = Predictions.CountCorrect(logits, batch.HostLabels.Span, _logitsHost, centres: _loss.HostCentres);
        }
        if (_ddpn is null)
        {
            // Data-parallel: the global batch's mean gradient on every rank, before clipping and the step.
            _gradients?.Average(batch.Count, _batches.GlobalCount(batch.Index));
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

    public void Save(string path) => TrainingCheckpoint.Save(path, Model, _optimizer, CompletedEpochs, Options.Seed, Record);

    /// <summary>
    /// Restores parameters, optimizer state, the epoch counter, the best accuracy and the metrics history from a checkpoint
    /// of the same model. Refuses other training options (named one by one) unless <paramref name="allowOptionChange"/>.
    /// </summary>
    public void Resume(string path, bool allowOptionChange = false)
    {
        var (completed, record) = TrainingCheckpoint.Restore(path, Model, _optimizer, TrainingRecord.Of(Options, _dataFingerprint), allowOptionChange);
        CompletedEpochs = completed;
        History.Clear();
        if (record is null) return;
        History.AddRange(record.History);
        (BestTestAccuracy, BestEpoch) = (record.BestTestAccuracy, record.BestEpoch);
    }

    public void Dispose()
    {
        // Null-conditional throughout: the constructor calls this when it fails part-way.
        _batches?.Dispose();
        _optimizer?.Dispose();
        _step?.Dispose();
        _ddpn?.Dispose();
        _evaluator?.Dispose();
        _loss?.Dispose();
    }

    private sealed class NullObserver : ITrainingObserver;
}
