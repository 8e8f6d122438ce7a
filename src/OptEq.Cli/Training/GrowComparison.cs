using OptEq.Autodiff;
using System.Diagnostics;
using OptEq.Autodiff.Data;
using OptEq.Autodiff.Growth;
using OptEq.Autodiff.Models;
using OptEq.Autodiff.Training;
using OptEq.Kernels;
using OptEq.Kernels.Activations;
using OptEq.Solvers;

namespace OptEq.Cli.Training;

/// <summary>One row of <c>opteq grow compare</c>: a (setting, strategy, seed) run's final figures and its curves.</summary>
public sealed record GrowResult(string Setting, string Strategy, int Seed, int FinalWidth, long Params, int Epochs, double TestLoss, double TestAccuracy,
    double Seconds, double[] TestLossPerEpoch, IReadOnlyList<GrowthRound> Rounds);

/// <summary>What <c>opteq grow compare</c> runs: the same budget of epochs and the same final width for every strategy.</summary>
public sealed record GrowComparisonOptions
{
    public int Start { get; init; } = 8;
    public int Final { get; init; } = 16;
    public int Epochs { get; init; } = 6;
    public int EpochsPerRound { get; init; } = 1;
    public double Fraction { get; init; } = 0.35;
    public int Batch { get; init; } = 64;
    public double LearningRate { get; init; } = 3e-3;
    public int AnalysisSamples { get; init; } = 1000;
}

/// <summary>
/// Splitting against random growth and against the final-size model trained from scratch (docs/math.md §5): equal total
/// epochs, equal maximum width, same data subset, seeds shared across strategies. Settings: an mlp with one hidden
/// layer or an OptEq layer (ReLU, Frobenius scaling, the default solvers), each on MNIST or Fashion-MNIST.
/// </summary>
public static class GrowComparison
{
    public static readonly string[] Settings = ["mnist-mlp", "mnist-opteq", "fashion-mlp", "fashion-opteq"];
    public static readonly string[] Strategies = ["splitting", "fast", "signed", "random", "scratch"];

    public static GrowResult Run(Device device, string setting, string strategy, int seed, Dataset train, Dataset test, (double Mean, double Std) standardisation, GrowComparisonOptions o)
    {
        bool scratch = strategy == "scratch";
        int width = scratch ? o.Final : o.Start;
        var config = Config(setting, width, seed, train, standardisation);
        var training = new TrainingOptions
        {
            Epochs = o.Epochs, Batch = o.Batch, LearningRate = o.LearningRate, Schedule = Autodiff.Optimizers.Schedules.ScheduleSpec.Parse("constant"),
            AugmentShift = 0, Seed = seed,
        };
        var clock = Stopwatch.StartNew();
        var model = new Classifier<float>(device, config);
        try
        {
            List<EpochMetrics> history;
            IReadOnlyList<GrowthRound> rounds = [];
            if (scratch)
            {
                using var trainer = new Trainer(device, model, training, train, test);
                trainer.Run();
                history = trainer.History;
            }
            else
            {
                var growth = new GrowthOptions
                {
                    Strategy = GrowthStrategies.Parse(strategy), Fraction = o.Fraction, MaxWidth = o.Final, EpochsPerRound = o.EpochsPerRound, AnalysisSamples = o.AnalysisSamples,
                };
                var grower = new GrowthTrainer(device, growth, training, train, test);
                model = grower.Run(model);
                history = grower.History;
                rounds = grower.Rounds;
            }
            var last = history[^1];
            int finalWidth = SplitTarget.Of(model.Spec).Max(t => t.Width);
            return new GrowResult(setting, strategy, seed, finalWidth, model.ParameterCount, history.Count, last.TestLoss, last.TestAccuracy,
                clock.Elapsed.TotalSeconds, history.Select(h => h.TestLoss).ToArray(), rounds);
        }
        finally
        {
            model.Dispose();
        }
    }

    public static ModelConfig Config(string setting, int width, int seed, Dataset train, (double Mean, double Std) s)
    {
        bool opteq = setting.EndsWith("-opteq", StringComparison.Ordinal);
        var config = new ModelConfig
        {
            Model = opteq ? ModelKind.OptEq : ModelKind.Mlp, Input = train.Pixels, Classes = train.Classes, Hidden = width, Layers = [width],
            Activation = Activation.ReLU, Norm = NormKind.Frobenius, Seed = seed, InputMean = s.Mean, InputStd = s.Std,
        };
        config.Validate();
        return config;
    }

    /// <summary>The first <paramref name="count"/> images of a dataset (all when it has fewer).</summary>
    public static Dataset Subset(Dataset data, int count)
    {
        int n = Math.Min(count, data.Count);
        return new Dataset(data.Name, data.Images.AsSpan(0, n * data.Pixels).ToArray(), data.Labels.AsSpan(0, n).ToArray(), data.Rows, data.Cols, data.Classes);
    }
}
