using OptEq.Autodiff.Data;
using OptEq.Autodiff.Models;
using OptEq.Autodiff.Training;

namespace OptEq.Autodiff.Growth;

/// <summary>How a model grows while it trains (docs/math.md §5.3); validated when built.</summary>
public sealed record GrowthOptions
{
    private readonly double _fraction = 0.35, _epsilon = 1e-2;
    private readonly int _epochsPerRound = 1, _maxWidth = 64, _analysisSamples = 1000;

    public GrowthStrategy Strategy { get; init; } = GrowthStrategy.Splitting;
    /// <summary>At most this fraction of a round's neurons is split (rounded up; at least one).</summary>
    public double Fraction { get => _fraction; init => _fraction = value > 0 && value <= 1 ? value : throw new ArgumentOutOfRangeException(nameof(Fraction), value, "--grow-fraction must lie in (0, 1]"); }
    /// <summary>No growable layer grows past this width.</summary>
    public int MaxWidth { get => _maxWidth; init => _maxWidth = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(MaxWidth), value, "--grow-max-width must be ≥ 1"); }
    public int EpochsPerRound { get => _epochsPerRound; init => _epochsPerRound = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(EpochsPerRound), value, "--grow-epochs must be ≥ 1"); }
    /// <summary>The offspring offset ε (times the unit direction v).</summary>
    public double Epsilon { get => _epsilon; init => _epsilon = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(Epsilon), value, "--grow-epsilon must be > 0"); }
    /// <summary>Training samples (the first ones) on which the splitting matrices are estimated.</summary>
    public int AnalysisSamples { get => _analysisSamples; init => _analysisSamples = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(AnalysisSamples), value, "--grow-samples must be ≥ 1"); }
}

/// <summary>One growth round: when, the widths, the split neurons' eigenvalues, and the loss change predicted and measured on the analysis samples.</summary>
public sealed record GrowthRound(int Round, int AfterEpoch, int WidthBefore, int WidthAfter, double[] Lambdas, double PredictedDLoss, double MeasuredDLoss);

/// <summary>
/// Train → split → train (docs/math.md §5.3): <see cref="TrainingOptions.Epochs"/> epochs in all, in rounds of
/// <see cref="GrowthOptions.EpochsPerRound"/>, splitting after every round but the last while the layers are below
/// the maximum width. Each round trains with a fresh <see cref="Trainer"/>: the optimizer's state and the schedule
/// start afresh (§5.7), and the batch order is reseeded per round. The grown model is a normal classifier whose
/// configuration carries the grown spec, so its checkpoint loads like any other.
/// </summary>
public sealed class GrowthTrainer(Device device, GrowthOptions growth, TrainingOptions training, Dataset train, Dataset test)
{
    public List<EpochMetrics> History { get; } = new();
    public List<GrowthRound> Rounds { get; } = new();

    /// <summary>Grows and trains <paramref name="model"/> (which it takes over and disposes when replaced); returns the final model.</summary>
    public Classifier<float> Run(Classifier<float> model, ITrainingObserver? observer = null, string? checkpointPath = null, Action<GrowthRound>? onRound = null)
    {
        Check(model.Spec, growth.Strategy);
        // The splitting analysis differentiates the cross-entropy (docs/math.md §5): another training loss would split for the wrong objective.
        if (training.Loss.Kind != Losses.LossKind.CrossEntropy)
            throw new ArgumentException($"growth trains and splits on the cross-entropy; the loss '{training.Loss.Name}' is not supported with it");
        int total = training.Epochs, done = 0, round = 0;
        while (done < total)
        {
            int epochs = Math.Min(growth.EpochsPerRound, total - done);
            using (var trainer = new Trainer(device, model, training with { Epochs = epochs, Seed = training.Seed + 7919 * round }, train, test))
            {
                int offset = done;
                trainer.Run(observer is null ? null : new ShiftedObserver(observer, offset));
                History.AddRange(trainer.History.Select(m => m with { Epoch = m.Epoch + offset }));
                done += epochs;
                if (done >= total)
                {
                    if (checkpointPath is not null) trainer.Save(checkpointPath);
                    break;
                }
            }
            int rounds = Rounds.Count;
            var grown = Grow(model, round, done);
            if (Rounds.Count > rounds) onRound?.Invoke(Rounds[^1]);
            if (!ReferenceEquals(grown, model)) { model.Dispose(); model = grown; }
            round++;
        }
        return model;
    }

    /// <summary>Fails before any training when the model cannot grow by this strategy (no growable layer, an OptEq layer that cannot split, signed OptEq units).</summary>
    public static void Check(ModelSpec spec, GrowthStrategy strategy)
    {
        foreach (var target in SplitTarget.Of(spec).Where(t => t.Kind == SplitKind.OptEqUnit))
        {
            SplitTarget.CheckOptEq((OptEqSpec)spec.Layers[target.LayerIndex]);
            if (strategy == GrowthStrategy.Signed)
                throw new ArgumentException("--grow signed splits dense layers only: an OptEq unit cannot take a negative output weight (docs/math.md §5.6)");
        }
    }

    /// <summary>One split round on the analysis samples; returns the model itself when nothing was split.</summary>
    public Classifier<float> Grow(Classifier<float> model, int round, int afterEpoch)
    {
        var targets = SplitTarget.Of(model.Spec);
        if (targets.All(t => t.Width >= growth.MaxWidth)) return model;
        int n = Math.Min(growth.AnalysisSamples, train.Count);
        using var images = device.FromArray<float>(train.Images.AsSpan(0, n * train.Pixels), n, train.Pixels);
        using var labels = device.FromArray<int>(train.Labels.AsSpan(0, n), n);
        var layers = SplittingAnalysis.Analyse(device, model, images, labels, surrogate: true);
        List<ChosenSplit> chosen;
        try { chosen = SplitSelection.Choose(device, layers, growth.Strategy, growth.Fraction, growth.MaxWidth, growth.Epsilon, training.Seed + round); }
        finally { foreach (var l in layers) l.Operator.Dispose(); }
        int width = targets.Sum(t => t.Width);
        if (chosen.Count == 0)
        {
            Rounds.Add(new GrowthRound(round, afterEpoch, width, width, [], 0, 0));
            return model;
        }
        var (config, parameters) = NeuronSplitter.Split(model, chosen.Select(c => c.Decision).ToList(), growth.Epsilon);
        var grown = NeuronSplitter.Build<float>(device, config, parameters);
        double before = MeanLoss(model, images, labels), after = MeanLoss(grown, images, labels);
        var report = new GrowthRound(round, afterEpoch, width, width + chosen.Count, chosen.Select(c => c.Lambda).ToArray(),
            growth.Strategy == GrowthStrategy.Random ? double.NaN : chosen.Sum(c => c.PredictedGain), after - before);
        Rounds.Add(report);
        return grown;
    }

    private double MeanLoss(Classifier<float> model, Tensor<float> images, Tensor<int> labels)
    {
        using var tape = Tape<float>.NoGrad(device);
        var loss = Ops.SoftmaxCrossEntropy(model.Forward(tape.Constant(images)), labels, out _);
        return loss.Value.ToArray()[0];
    }

    private sealed class ShiftedObserver(ITrainingObserver inner, int offset) : ITrainingObserver
    {
        public void EpochStarted(int epoch, int batches) => inner.EpochStarted(epoch + offset, batches);
        public void BatchFinished(in BatchProgress progress) => inner.BatchFinished(progress with { Epoch = progress.Epoch + offset });
        public void EpochFinished(EpochMetrics metrics) => inner.EpochFinished(metrics with { Epoch = metrics.Epoch + offset });
    }
}
