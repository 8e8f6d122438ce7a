using System.Diagnostics;
using OptEq.Autodiff.Data;
using OptEq.Autodiff.Losses;
using OptEq.Autodiff.Models;
using OptEq.Autodiff.Optimizers;
using OptEq.Autodiff.Optimizers.Ddpn;
using OptEq.Autodiff.Optimizers.Schedules;
using OptEq.Autodiff.Training;
using OptEq.Kernels;
using OptEq.Kernels.Activations;

namespace OptEq.Cli.Bench;

/// <summary>One optimizer as the comparison runs it: a name, the kind, DDPNOpt's settings, and its learning-rate grid.</summary>
public sealed record ComparedOptimizer(string Name, OptimizerKind Kind, double[] LearningRates, DdpnOptions? Ddpn = null);

/// <summary>
/// One dataset of the comparison: the data, the 5-layer network's hidden widths and activation, batch, epochs and the loss
/// (null: cross-entropy); with <paramref name="Conv"/>, the network is the cnn model of those options instead (Hidden unused).
/// </summary>
public sealed record ComparisonSetup(string Data, string Description, Dataset Train, Dataset Test, int[] Hidden, Activation Activation, int Batch, int Epochs,
    ClassificationLoss? Loss = null, ConvModelOptions? Conv = null);

/// <summary>One training run's outcome: the JSON object of <c>opteq optimizers compare --json</c>.</summary>
public sealed record OptimizerRun(string Data, string Optimizer, double LearningRate, int Seed, double TestAccuracy, double? TestLoss, double MillisecondsPerStep, bool Diverged);

/// <summary>One run of the vanishing-gradient case: per epoch, the test accuracy, the training loss and each layer's update norm.</summary>
public sealed record VanishingRun(string Optimizer, double LearningRate, int Seed, double[] TrainLoss, double[] TestAccuracy, double[][] UpdateNorms);

/// <summary>
/// Trains the same network with each optimizer over seeds and a learning-rate grid (constant rate, no augmentation, no
/// weight decay) and records final test accuracy and loss and the training time per step; and the vanishing-gradient
/// case, recording per-layer update norms ‖W_after − W_before‖_F per epoch.
/// </summary>
public sealed class OptimizerComparison(Device device)
{
    /// <summary>
    /// The optimizers compared: SGD with momentum (0.9, Nesterov), RMSprop, Adam, DDPNOpt over Adam (diagonal
    /// preconditioner), K-FAC (DDPNOpt's Kronecker preconditioner over SGD with momentum, feedback off: a plain K-FAC
    /// natural-gradient step) and DDPNOpt with that K-FAC preconditioner.
    /// </summary>
    public static IReadOnlyList<ComparedOptimizer> Default { get; } =
    [
        new("sgd", OptimizerKind.Sgd, [0.01, 0.03, 0.1]),
        new("rmsprop", OptimizerKind.Rmsprop, [1e-4, 3e-4, 1e-3]),
        new("adam", OptimizerKind.Adam, [3e-4, 1e-3, 3e-3]),
        new("ddpnopt", OptimizerKind.Ddpnopt, [3e-4, 1e-3, 3e-3], new DdpnOptions { Base = OptimizerKind.Adam }),
        new("kfac", OptimizerKind.Ddpnopt, [1e-3, 3e-3, 1e-2], new DdpnOptions { Base = OptimizerKind.Sgd, Preconditioner = DdpnPreconditioner.Kfac, Feedback = false }),
        new("ddpnopt-kfac", OptimizerKind.Ddpnopt, [1e-3, 3e-3, 1e-2], new DdpnOptions { Base = OptimizerKind.Sgd, Preconditioner = DdpnPreconditioner.Kfac }),
    ];

    /// <summary>Whether the optimizer can train a network with convolutions (the Kronecker preconditioner covers linear layers only; docs/math.md §6.8).</summary>
    public static bool TrainsConvolutions(ComparedOptimizer optimizer) => optimizer.Ddpn?.EffectivePreconditioner != DdpnPreconditioner.Kfac;

    /// <summary><see cref="Default"/> with DDPNOpt's Tikhonov ε and feedback bound set (docs/math.md §6.3, §6.5).</summary>
    public static IReadOnlyList<ComparedOptimizer> WithDdpn(double epsilon, double feedbackClip)
        => Default.Select(o => o.Ddpn is null ? o : o with { Ddpn = o.Ddpn with { Epsilon = epsilon, Bound = feedbackClip } }).ToArray();

    public OptimizerRun Run(ComparisonSetup setup, ComparedOptimizer optimizer, double lr, int seed)
    {
        using var model = new Classifier<float>(device, Config(setup, seed));
        using var trainer = new Trainer(device, model, Options(optimizer, lr, seed, setup), setup.Train, setup.Test);
        var clock = new Stopwatch();
        var timer = new StepTimer(clock);
        bool diverged = false;
        try { trainer.Run(timer); }
        catch (TrainingDivergedException) { diverged = true; }
        var test = trainer.Evaluate(setup.Test);
        return new OptimizerRun(setup.Data, optimizer.Name, lr, seed, test.Accuracy, double.IsFinite(test.Loss) ? test.Loss : null,
            timer.Steps == 0 ? double.NaN : clock.Elapsed.TotalMilliseconds / timer.Steps, diverged);
    }

    /// <summary>The vanishing-gradient case: <paramref name="setup"/> (a deep sigmoid network) trained epoch by epoch, recording update norms.</summary>
    public VanishingRun RunVanishing(ComparisonSetup setup, ComparedOptimizer optimizer, double lr, int seed)
    {
        using var model = new Classifier<float>(device, Config(setup, seed));
        using var trainer = new Trainer(device, model, Options(optimizer, lr, seed, setup), setup.Train, setup.Test);
        var weights = model.Parameters().Where(p => p.Name.EndsWith(".weight", StringComparison.Ordinal)).ToArray();
        var losses = new List<double>();
        var accuracies = new List<double>();
        var norms = new List<double[]>();
        for (int epoch = 1; epoch <= setup.Epochs; epoch++)
        {
            var before = weights.Select(w => w.Value.ToArray()).ToArray();
            try { trainer.Run(stopAfterEpoch: _ => true); }
            catch (TrainingDivergedException) { break; }
            var metrics = trainer.History[^1];
            losses.Add(metrics.TrainLoss);
            accuracies.Add(metrics.TestAccuracy);
            norms.Add(weights.Select((w, i) =>
            {
                var after = w.Value.ToArray();
                double sum = 0;
                for (int j = 0; j < after.Length; j++) { double d = after[j] - before[i][j]; sum += d * d; }
                return Math.Sqrt(sum);
            }).ToArray());
        }
        return new VanishingRun(optimizer.Name, lr, seed, [.. losses], [.. accuracies], [.. norms]);
    }

    /// <summary>
    /// Milliseconds per training step of each optimizer on <paramref name="setup"/>, timed interleaved so that the machine's
    /// load falls on all alike: every optimizer trains one epoch in turn, <paramref name="rounds"/> times (the first round
    /// warms up and is dropped); the median over the remaining rounds. Also returns each median ÷ Adam's.
    /// </summary>
    public IReadOnlyList<(string Optimizer, double MillisecondsPerStep)> TimeInterleaved(ComparisonSetup setup, IReadOnlyList<ComparedOptimizer> optimizers, int rounds)
    {
        var models = new List<Classifier<float>>();
        var trainers = new List<Trainer>();
        try
        {
            foreach (var o in optimizers)
            {
                var model = new Classifier<float>(device, Config(setup, 0));
                models.Add(model);
                trainers.Add(new Trainer(device, model, Options(o, o.LearningRates[0], 0, setup with { Epochs = rounds }), setup.Train, setup.Test));
            }
            var times = optimizers.Select(_ => new List<double>()).ToArray();
            for (int round = 0; round < rounds; round++)
                for (int i = 0; i < trainers.Count; i++)
                {
                    var clock = new Stopwatch();
                    var timer = new StepTimer(clock);
                    try { trainers[i].Run(timer, stopAfterEpoch: _ => true); }
                    catch (TrainingDivergedException) { }
                    if (round > 0 && timer.Steps > 0) times[i].Add(clock.Elapsed.TotalMilliseconds / timer.Steps);
                }
            return optimizers.Select((o, i) => (o.Name, Median(times[i]))).ToArray();
        }
        finally
        {
            foreach (var t in trainers) t.Dispose();
            foreach (var m in models) m.Dispose();
        }
    }

    private static double Median(List<double> values)
    {
        if (values.Count == 0) return double.NaN;
        values.Sort();
        int n = values.Count;
        return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    }

    private static ModelConfig Config(ComparisonSetup setup, int seed) => new()
    {
        Model = setup.Conv is null ? ModelKind.Mlp : ModelKind.Cnn, Input = setup.Train.Pixels, Classes = setup.Train.Classes, Layers = setup.Hidden,
        Conv = setup.Conv, Activation = setup.Activation, Seed = seed,
    };

    private static TrainingOptions Options(ComparedOptimizer optimizer, double lr, int seed, ComparisonSetup setup) => new()
    {
        Epochs = setup.Epochs, Batch = setup.Batch, LearningRate = lr, Schedule = ScheduleSpec.Parse("constant"), Optimizer = optimizer.Kind,
        Ddpn = optimizer.Ddpn ?? new DdpnOptions(), AugmentShift = 0, Seed = seed, EvalBatch = 1000, Loss = setup.Loss ?? ClassificationLoss.CrossEntropy,
    };

    /// <summary>Times the training steps only: the clock runs from an epoch's start to its last batch (the test evaluation is outside).</summary>
    private sealed class StepTimer(Stopwatch clock) : ITrainingObserver
    {
        public int Steps { get; private set; }
        public void EpochStarted(int epoch, int batches) => clock.Start();
        public void BatchFinished(in BatchProgress progress)
        {
            Steps++;
            if (progress.Batch == progress.Batches) clock.Stop();
        }
    }
}
