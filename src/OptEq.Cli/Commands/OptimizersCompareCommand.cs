using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using OptEq.Autodiff.Data;
using OptEq.Autodiff.Losses;
using OptEq.Autodiff.Models;
using OptEq.Autodiff.Optimizers;
using OptEq.Autodiff.Optimizers.Ddpn;
using OptEq.Cli.Bench;
using OptEq.Cli.Reporting;
using OptEq.Kernels;
using OptEq.Kernels.Activations;

namespace OptEq.Cli.Commands;

/// <summary>
/// <c>opteq optimizers compare</c>: DDPNOpt against SGD with momentum, RMSprop and Adam (docs/math.md §6) on DIGITS, WINE and
/// a subset of MNIST, over seeds and learning-rate grids, plus the vanishing-gradient case (a deep sigmoid network on DIGITS).
/// </summary>
public static class OptimizersCompareCommand
{
    public static Command Create()
    {
        var json = CommonOptions.Json();
        var output = new Option<string>("--out") { Description = "Folder for runs.jsonl, vanishing.json, summary.md and the plots.", DefaultValueFactory = _ => Path.Combine("runs", "optimizers-compare") };
        var data = new Option<string>("--data") { Description = "Datasets, comma-separated: digits, wine, mnist.", DefaultValueFactory = _ => "digits,wine,mnist" };
        var seeds = new Option<int>("--seeds") { Description = "Seeds per (data, optimizer, learning rate); 0 skips the grid.", DefaultValueFactory = _ => 5 };
        var epochs = new Option<int>("--epochs") { Description = "Epochs for every dataset (0: digits 20, wine 40, mnist 2, vanishing 15).", DefaultValueFactory = _ => 0 };
        var mnistTrain = new Option<int>("--mnist-train") { Description = "MNIST: the first N training images.", DefaultValueFactory = _ => 5000 };
        var mnistTest = new Option<int>("--mnist-test") { Description = "MNIST: the first N test images.", DefaultValueFactory = _ => 1000 };
        var vanishing = new Option<bool>("--vanishing") { Description = "Also run the vanishing-gradient case (10-layer sigmoid network on DIGITS).", DefaultValueFactory = _ => true };
        var vanishingSeeds = new Option<int>("--vanishing-seeds") { Description = "Seeds of the vanishing-gradient case.", DefaultValueFactory = _ => 3 };
        var vanishingLoss = CommonOptions.Typed("--vanishing-loss", "Loss of the vanishing-gradient case: mmc[:C] (the paper's, Max-Mahalanobis centres of norm C, default 10) or ce.",
            ClassificationLoss.Parse, ClassificationLoss.Mmc());
        vanishingLoss.HelpName = "mmc|ce|mmc:C";
        var ddpnEpsilon = new Option<double>("--ddpn-epsilon") { Description = "DDPNOpt's Tikhonov ε (V_xx + ε·I).", DefaultValueFactory = _ => new DdpnOptions().Epsilon };
        var ddpnBound = new Option<double>("--ddpn-bound") { Description = "DDPNOpt's feedback bound ρ: |(K·δx)ᵢ| ≤ ρ·|kᵢ| (0: unbounded).", DefaultValueFactory = _ => new DdpnOptions().Bound };
        var only = new Option<string?>("--optimizers") { Description = $"Only these optimizers of the grid, comma-separated (default: all of {string.Join(", ", OptimizerComparison.Default.Select(o => o.Name))}); the timing and the vanishing case always run all." };
        var network = new Option<string>("--network") { Description = "The network of the grid and the timing: mlp (the 5-layer network) or cnn (conv 3×3 16 → relu → pool 2 → conv 3×3 32 → relu → pool 2 → linear; digits and mnist; no kfac).", DefaultValueFactory = _ => "mlp", HelpName = "mlp|cnn" };
        var timing = new Option<bool>("--timing") { Description = "Also time the optimizers interleaved (ms/step and the ratio to Adam).", DefaultValueFactory = _ => true };
        var device = CommonOptions.Device();
        var compare = new Command("compare", "Train a 5-layer network with DDPNOpt, SGD (momentum), RMSprop and Adam over seeds and learning rates; report accuracy, its spread across learning rates and time per step.")
        {
            json, output, data, seeds, epochs, mnistTrain, mnistTest, vanishing, vanishingSeeds, vanishingLoss, ddpnEpsilon, ddpnBound, only, network, timing, device,
        };
        compare.SetAction(parse =>
        {
            int seedCount = parse.GetValue(seeds), epochOverride = parse.GetValue(epochs);
            if (seedCount < 0) throw new ArgumentException($"--seeds must be ≥ 0 (0: only the timing and the vanishing-gradient case), got {seedCount}");
            if (epochOverride < 0) throw new ArgumentException($"--epochs must be ≥ 0, got {epochOverride}");
            var selected = parse.GetValue(only)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            foreach (var name in selected ?? [])
                if (OptimizerComparison.Default.All(o => o.Name != name))
                    throw new ArgumentException($"--optimizers: unknown optimizer '{name}'; valid: {string.Join(", ", OptimizerComparison.Default.Select(o => o.Name))}");
            bool cnn = parse.GetValue(network) switch
            {
                "mlp" => false,
                "cnn" => true,
                var other => throw new ArgumentException($"--network: '{other}' is not a network; valid: mlp, cnn"),
            };
            if (cnn && selected?.FirstOrDefault(n => !OptimizerComparison.TrainsConvolutions(OptimizerComparison.Default.Single(o => o.Name == n))) is { } kfacName)
                throw new ArgumentException($"--optimizers: {kfacName} (the Kronecker preconditioner) covers linear layers only and cannot train the cnn network");
            var names = parse.GetValue(data)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var setups = names.Select(n => Setup(n, epochOverride, parse.GetValue(mnistTrain), parse.GetValue(mnistTest))).Select(s => cnn ? Convolutional(s) : s).ToArray();
            var folder = Path.GetFullPath(parse.GetValue(output)!);
            Directory.CreateDirectory(folder);
            bool asJson = parse.GetValue(json);
            using var dev = DeviceCatalog.Open(parse.GetValue(device));
            var comparison = new OptimizerComparison(dev);
            var runs = new List<OptimizerRun>();
            var log = new StringBuilder();
            foreach (var setup in setups)
            {
                if (!asJson) Console.WriteLine($"{setup.Data}: {setup.Description}");
                foreach (var optimizer in OptimizerComparison.WithDdpn(parse.GetValue(ddpnEpsilon), parse.GetValue(ddpnBound))
                    .Where(o => (selected is null || selected.Contains(o.Name)) && (!cnn || OptimizerComparison.TrainsConvolutions(o))))
                    foreach (double lr in optimizer.LearningRates)
                        for (int seed = 0; seed < seedCount; seed++)
                        {
                            var run = comparison.Run(setup, optimizer, lr, seed);
                            runs.Add(run);
                            string line = Json(run);
                            log.AppendLine(line);
                            Console.WriteLine(asJson ? line : $"  {run.Optimizer,-8} lr {run.LearningRate,-7:G3} seed {run.Seed}  test accuracy {run.TestAccuracy:P2}  loss {run.TestLoss?.ToString("F4") ?? "NaN"}  {run.MillisecondsPerStep:F2} ms/step{(run.Diverged ? "  DIVERGED" : "")}");
                        }
                if (seedCount == 0) continue;
                AtomicFile.Write(Path.Combine(folder, "runs.jsonl"), Encoding.UTF8.GetBytes(log.ToString()));
                Plot(folder, setup, runs.Where(r => r.Data == setup.Data).ToList());
            }
            var summary = new StringBuilder();
            if (seedCount > 0) summary.AppendLine(Summary(setups, runs, seedCount));
            if (parse.GetValue(timing)) summary.AppendLine(Overhead(comparison, setups, asJson));
            if (parse.GetValue(vanishing))
                summary.AppendLine(Vanishing(comparison, folder, epochOverride, parse.GetValue(vanishingSeeds), parse.GetValue(vanishingLoss)!, asJson));
            AtomicFile.Write(Path.Combine(folder, "summary.md"), Encoding.UTF8.GetBytes(summary.ToString()));
            if (!asJson) Console.WriteLine(summary);
            Console.Error.WriteLine($"opteq: wrote {Path.Combine(folder, "summary.md")}, runs.jsonl and plots");
            return 0;
        });
        return new Command("optimizers", "Optimizer studies.") { compare };
    }

    private static ComparisonSetup Setup(string name, int epochs, int mnistTrain, int mnistTest)
    {
        string root = Path.GetDirectoryName(DatasetLoader.FindBundled([AppContext.BaseDirectory, Directory.GetCurrentDirectory()]))!;
        switch (name.ToLowerInvariant())
        {
            case "digits":
            {
                var (train, test) = Standardized(DatasetLoader.Load(Path.Combine(root, "digits")));
                return new ComparisonSetup("digits", $"{train.Count} train / {test.Count} test, 64-32-32-32-32-10 tanh, batch 64", train, test, [32, 32, 32, 32], Activation.Tanh, 64, epochs > 0 ? epochs : 20);
            }
            case "wine":
            {
                var (train, test) = Standardized(DatasetLoader.Load(Path.Combine(root, "wine")));
                return new ComparisonSetup("wine", $"{train.Count} train / {test.Count} test, 13-32-32-32-32-3 tanh, batch 32", train, test, [32, 32, 32, 32], Activation.Tanh, 32, epochs > 0 ? epochs : 40);
            }
            case "mnist":
            {
                if (mnistTrain < 1 || mnistTest < 1) throw new ArgumentException("--mnist-train and --mnist-test must be ≥ 1");
                var (fullTrain, fullTest) = DatasetLoader.Load(null);
                var (train, test) = Standardized((Head(fullTrain, mnistTrain), Head(fullTest, mnistTest)));
                return new ComparisonSetup("mnist", $"the first {train.Count} train / {test.Count} test images, 784-64-64-64-64-10 ReLU, batch 128", train, test, [64, 64, 64, 64], Activation.ReLU, 128, epochs > 0 ? epochs : 2);
            }
            default: throw new ArgumentException($"--data: unknown dataset '{name}'; valid: digits, wine, mnist");
        }
    }

    /// <summary>
    /// The setup with the cnn network (docs/ddpnopt): conv 3×3 (16) → ReLU → avg pool 2 → conv 3×3 (32) → ReLU → avg pool 2 →
    /// linear, stride 1, zero padding 1; the data's batch and epochs. Images only (DIGITS 8×8, MNIST 28×28).
    /// </summary>
    private static ComparisonSetup Convolutional(ComparisonSetup setup)
    {
        int side = (int)Math.Round(Math.Sqrt(setup.Train.Pixels));
        if (side * side != setup.Train.Pixels || side < 4)
            throw new ArgumentException($"--network cnn needs square images of at least 4×4 pixels; {setup.Data} has {setup.Train.Pixels} features per sample");
        var conv = new ConvModelOptions { Channels = [16, 32], KernelSize = 3, InjectionStride = 1, Pool = 2 };
        int pooled = side / 2 / 2;
        return setup with
        {
            Data = $"{setup.Data}-cnn", Conv = conv, Activation = Activation.ReLU,
            Description = $"{setup.Description[..setup.Description.IndexOf(',')]}, cnn 1×{side}×{side} → conv 3×3 16 → relu → pool 2 → conv 3×3 32 → relu → pool 2 → linear (32·{pooled}×{pooled} → {setup.Train.Classes}), batch {setup.Batch}",
        };
    }

    private static (Dataset, Dataset) Standardized((Dataset Train, Dataset Test) sets)
    {
        var (mean, std) = sets.Train.PixelStatistics();
        sets.Train.Standardize(mean, std);
        sets.Test.Standardize(mean, std);
        return sets;
    }

    private static Dataset Head(Dataset d, int count)
    {
        count = Math.Min(count, d.Count);
        return new Dataset(d.Name, d.Images.AsSpan(0, count * d.Pixels).ToArray(), d.Labels.AsSpan(0, count).ToArray(), d.Rows, d.Cols, d.Classes);
    }

    public static string Json(OptimizerRun r) => JsonSerializer.Serialize(new Dictionary<string, object?>
    {
        ["bench"] = "optimizer",
        ["data"] = r.Data,
        ["optimizer"] = r.Optimizer,
        ["lr"] = r.LearningRate,
        ["seed"] = r.Seed,
        ["test_accuracy"] = Math.Round(r.TestAccuracy, 6),
        ["test_loss"] = r.TestLoss is { } l ? Math.Round(l, 6) : null,
        ["ms_per_step"] = Math.Round(r.MillisecondsPerStep, 4),
    });

    private static (double Mean, double Std) MeanStd(IEnumerable<double> values)
    {
        var v = values.ToArray();
        double mean = v.Average();
        return (mean, v.Length > 1 ? Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1)) : 0);
    }

    private static string Summary(ComparisonSetup[] setups, List<OptimizerRun> runs, int seeds)
    {
        var text = new StringBuilder();
        text.AppendLine($"# Optimizer comparison ({seeds} seeds per learning rate; constant learning rate, no augmentation, no weight decay)");
        foreach (var setup in setups)
        {
            text.AppendLine($"\n## {setup.Data}: {setup.Description}, {setup.Epochs} epochs\n");
            text.AppendLine("| optimizer | test accuracy per lr (mean ± std over seeds) | best lr: mean ± std | spread across lrs (max − min of means) | ms/step (all runs; noisy, see the interleaved timing) | ms/step ÷ adam |");
            text.AppendLine("|---|---|---|---|---|---|");
            var ofData = runs.Where(r => r.Data == setup.Data).ToList();
            double adamMs = ofData.Where(r => r.Optimizer == "adam").Select(r => r.MillisecondsPerStep).DefaultIfEmpty(double.NaN).Average();
            foreach (var optimizer in OptimizerComparison.Default)
            {
                var mine = ofData.Where(r => r.Optimizer == optimizer.Name).ToList();
                if (mine.Count == 0) continue;
                var perLr = optimizer.LearningRates.Select(lr => (lr, stats: MeanStd(mine.Where(r => r.LearningRate == lr).Select(r => r.TestAccuracy)))).ToArray();
                var best = perLr.MaxBy(p => p.stats.Mean);
                double spread = perLr.Max(p => p.stats.Mean) - perLr.Min(p => p.stats.Mean);
                double ms = mine.Average(r => r.MillisecondsPerStep);
                string cells = string.Join("; ", perLr.Select(p => $"{p.lr:G3}: {100 * p.stats.Mean:F1} ± {100 * p.stats.Std:F1}"));
                text.AppendLine(CultureInfo.InvariantCulture, $"| {optimizer.Name} | {cells} | {best.lr:G3}: {100 * best.stats.Mean:F1} ± {100 * best.stats.Std:F1} | {100 * spread:F1} pts | {ms:F2} | {ms / adamMs:F2} |");
            }
        }
        return text.ToString();
    }

    /// <summary>ms/step of each optimizer timed interleaved epoch by epoch (6 rounds, the first dropped), and the ratio to Adam.</summary>
    private static string Overhead(OptimizerComparison comparison, ComparisonSetup[] setups, bool asJson)
    {
        const int rounds = 6;
        var text = new StringBuilder();
        text.AppendLine($"\n## Time per step, interleaved (each optimizer one epoch in turn, {rounds} rounds, the first dropped; median ms/step; the middle learning rate of each grid)\n");
        text.AppendLine("| data | " + string.Join(" | ", OptimizerComparison.Default.Select(o => o.Name)) + " | ddpnopt ÷ adam | ddpnopt-kfac ÷ adam | ddpnopt-kfac ÷ kfac |");
        text.AppendLine("|---|" + string.Concat(OptimizerComparison.Default.Select(_ => "---|")) + "---|---|---|");
        var middle = OptimizerComparison.Default.Select(o => o with { LearningRates = [o.LearningRates[o.LearningRates.Length / 2]] }).ToArray();
        foreach (var setup in setups)
        {
            var times = comparison.TimeInterleaved(setup, [.. middle.Where(o => setup.Conv is null || OptimizerComparison.TrainsConvolutions(o))], rounds);
            double Ms(string name) => times.SingleOrDefault(t => t.Optimizer == name) is { Optimizer: not null } t ? t.MillisecondsPerStep : double.NaN;
            double adam = Ms("adam"), ddpn = Ms("ddpnopt"), kfac = Ms("kfac"), ddpnKfac = Ms("ddpnopt-kfac");
            text.AppendLine(CultureInfo.InvariantCulture, $"| {setup.Data} | {string.Join(" | ", OptimizerComparison.Default.Select(o => double.IsNaN(Ms(o.Name)) ? "—" : Ms(o.Name).ToString("F2", CultureInfo.InvariantCulture)))} | {Ratio(ddpn, adam)} | {Ratio(ddpnKfac, adam)} | {Ratio(ddpnKfac, kfac)} |");
            if (!asJson) Console.WriteLine($"  {setup.Data}: interleaved ms/step {string.Join(", ", times.Select(t => $"{t.Optimizer} {t.MillisecondsPerStep:F2}"))}");
        }
        return text.ToString();
    }

    /// <summary>a ÷ b to two decimals, or a dash where an optimizer did not run (the cnn has no kfac).</summary>
    private static string Ratio(double a, double b) => double.IsNaN(a / b) ? "—" : (a / b).ToString("F2", CultureInfo.InvariantCulture);

    private static void Plot(string folder, ComparisonSetup setup, List<OptimizerRun> runs)
    {
        var series = OptimizerComparison.Default.Select(o => new PlotSeries(o.Name,
            o.LearningRates.Select(Math.Log10).ToArray(),
            o.LearningRates.Select(lr => 100 * runs.Where(r => r.Optimizer == o.Name && r.LearningRate == lr).Select(r => r.TestAccuracy).DefaultIfEmpty(double.NaN).Average()).ToArray())).ToList();
        Plots.SaveLines(Path.Combine(folder, $"{setup.Data}-accuracy-vs-lr.png"), $"{setup.Data}: final test accuracy (mean over seeds)", "log10 learning rate", "test accuracy (%)", series);
    }

    /// <summary>A 10-layer sigmoid network on DIGITS (docs/math.md §6) under <paramref name="loss"/> (the paper's MMC by default): accuracy and per-layer update norms per epoch.</summary>
    private static string Vanishing(OptimizerComparison comparison, string folder, int epochOverride, int seeds, ClassificationLoss loss, bool asJson)
    {
        string lossText = loss.Kind == LossKind.Mmc
            ? $"MMC loss ({loss.Name}: centres of norm {loss.CentreNorm:G}, predict the nearest centre)"
            : "softmax cross-entropy";
        var setup = Setup("digits", epochOverride > 0 ? epochOverride : 15, 0, 0) with
        {
            Hidden = Enumerable.Repeat(32, 9).ToArray(), Activation = Activation.Sigmoid, Loss = loss,
            Description = $"10 linear layers (9 × 32 sigmoid + head), {lossText}, batch 64",
        };
        ComparedOptimizer[] optimizers =
        [
            new("sgd", OptimizerKind.Sgd, [0.1]),
            new("ddpnopt-sgd", OptimizerKind.Ddpnopt, [0.1], new DdpnOptions { Base = OptimizerKind.Sgd }),
            new("rmsprop", OptimizerKind.Rmsprop, [1e-3]),
            new("adam", OptimizerKind.Adam, [1e-3]),
            new("ddpnopt", OptimizerKind.Ddpnopt, [1e-3], new DdpnOptions { Base = OptimizerKind.Adam }),
            new("kfac", OptimizerKind.Ddpnopt, [1e-2], new DdpnOptions { Base = OptimizerKind.Sgd, Preconditioner = DdpnPreconditioner.Kfac, Feedback = false }),
            new("ddpnopt-kfac", OptimizerKind.Ddpnopt, [1e-2], new DdpnOptions { Base = OptimizerKind.Sgd, Preconditioner = DdpnPreconditioner.Kfac }),
        ];
        var runs = new List<VanishingRun>();
        foreach (var o in optimizers)
            for (int seed = 0; seed < seeds; seed++)
            {
                var run = comparison.RunVanishing(setup, o, o.LearningRates[0], seed);
                runs.Add(run);
                if (!asJson) Console.WriteLine($"  vanishing {o.Name,-12} seed {seed}: final train loss {(run.TrainLoss.Length > 0 ? run.TrainLoss[^1] : double.NaN):F4}, test accuracy {(run.TestAccuracy.Length > 0 ? run.TestAccuracy[^1] : double.NaN):P1}");
            }
        var record = new { loss = loss.Name, description = setup.Description, epochs = setup.Epochs, seeds, runs };
        AtomicFile.Write(Path.Combine(folder, "vanishing.json"), JsonSerializer.SerializeToUtf8Bytes(record, new JsonSerializerOptions { WriteIndented = true }));
        var text = new StringBuilder();
        text.AppendLine($"\n## Vanishing gradients: DIGITS, {setup.Description}, {setup.Epochs} epochs, {seeds} seeds (loss: {loss.Name})\n");
        text.AppendLine("| optimizer | lr | final train loss | final test accuracy | mean update norm per layer, bottom → head (‖ΔW‖_F per epoch, mean over epochs and seeds) |");
        text.AppendLine("|---|---|---|---|---|");
        var normSeries = new List<PlotSeries>();
        var accuracySeries = new List<PlotSeries>();
        foreach (var o in optimizers)
        {
            var mine = runs.Where(r => r.Optimizer == o.Name && r.TrainLoss.Length > 0).ToList();
            if (mine.Count == 0) { text.AppendLine($"| {o.Name} | {o.LearningRates[0]:G3} | diverged | | |"); continue; }
            var trainLoss = MeanStd(mine.Select(r => r.TrainLoss[^1]));
            var accuracy = MeanStd(mine.Select(r => r.TestAccuracy[^1]));
            int layers = mine[0].UpdateNorms[0].Length;
            var norms = Enumerable.Range(0, layers).Select(l => mine.Average(r => r.UpdateNorms.Average(e => e[l]))).ToArray();
            text.AppendLine(CultureInfo.InvariantCulture, $"| {o.Name} | {o.LearningRates[0]:G3} | {trainLoss.Mean:F3} ± {trainLoss.Std:F3} | {100 * accuracy.Mean:F1} ± {100 * accuracy.Std:F1} % | {string.Join(" ", norms.Select(n => n.ToString("G2", CultureInfo.InvariantCulture)))} |");
            normSeries.Add(new PlotSeries(o.Name, Enumerable.Range(1, layers).Select(l => (double)l).ToArray(), norms));
            int epochs = mine.Min(r => r.TestAccuracy.Length);
            accuracySeries.Add(new PlotSeries(o.Name, Enumerable.Range(1, epochs).Select(e => (double)e).ToArray(),
                Enumerable.Range(0, epochs).Select(e => 100 * mine.Average(r => r.TestAccuracy[e])).ToArray()));
        }
        Plots.SaveLines(Path.Combine(folder, "vanishing-update-norms.png"), "Deep sigmoid net on DIGITS: update norm per layer", "layer (1 = input side)", "‖ΔW‖_F per epoch", normSeries, logY: true);
        Plots.SaveLines(Path.Combine(folder, "vanishing-test-accuracy.png"), "Deep sigmoid net on DIGITS: test accuracy", "epoch", "test accuracy (%)", accuracySeries);
        return text.ToString();
    }
}
