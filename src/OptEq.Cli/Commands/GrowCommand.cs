using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using OptEq.Autodiff.Data;
using OptEq.Cli.Reporting;
using OptEq.Cli.Training;
using OptEq.Kernels;

namespace OptEq.Cli.Commands;

/// <summary>
/// <c>opteq grow compare</c>: splitting growth against random growth and the final-size model from scratch, at equal
/// final width and equal total epochs, over seeds and settings (docs/math.md §5). One JSON object per (setting,
/// strategy, seed); plots of test loss per epoch and of the split neurons' λ_min per round.
/// </summary>
public static class GrowCommand
{
    public const string DefaultFashionFolder = "/usr/share/datasets/fashion-mnist";

    public static Command Create()
    {
        var d = new GrowComparisonOptions();
        var json = CommonOptions.Json();
        var output = new Option<string>("--out") { Description = "Folder for results.json and the plots.", DefaultValueFactory = _ => Path.Combine("runs", "grow-compare") };
        var settings = new Option<string>("--settings") { Description = $"Comma-separated settings: {string.Join(", ", GrowComparison.Settings)}.", DefaultValueFactory = _ => string.Join(",", GrowComparison.Settings) };
        var strategies = new Option<string>("--strategies") { Description = $"Comma-separated: {string.Join(", ", GrowComparison.Strategies)}.", DefaultValueFactory = _ => "splitting,random,scratch" };
        var seeds = new Option<int>("--seeds") { Description = "Seeds 0…N−1, shared by every strategy.", DefaultValueFactory = _ => 3 };
        var trainSamples = new Option<int>("--train-samples") { Description = "Training images used (the first N).", DefaultValueFactory = _ => 5000 };
        var testSamples = new Option<int>("--test-samples") { Description = "Test images used (the first N).", DefaultValueFactory = _ => 2000 };
        var epochs = new Option<int>("--epochs") { Description = "Total epochs of every run.", DefaultValueFactory = _ => d.Epochs };
        var perRound = new Option<int>("--grow-epochs") { Description = "Epochs per growth round.", DefaultValueFactory = _ => d.EpochsPerRound };
        var start = new Option<int>("--start") { Description = "Hidden width the growing runs start from.", DefaultValueFactory = _ => d.Start };
        var final = new Option<int>("--final") { Description = "Final (maximum) hidden width; the from-scratch run's width.", DefaultValueFactory = _ => d.Final };
        var fraction = new Option<double>("--grow-fraction") { Description = "Fraction of neurons split per round.", DefaultValueFactory = _ => d.Fraction };
        var lr = new Option<double>("--lr") { Description = "Adam learning rate (constant).", DefaultValueFactory = _ => d.LearningRate };
        var mnist = new Option<string?>("--mnist") { Description = "MNIST IDX folder (default: the bundled MNIST)." };
        var fashion = new Option<string>("--fashion") { Description = "Fashion-MNIST IDX folder.", DefaultValueFactory = _ => DefaultFashionFolder };
        var device = CommonOptions.Device();
        var compare = new Command("compare", "Splitting vs random growth vs the final size from scratch, at equal final width and total epochs.")
        {
            json, output, settings, strategies, seeds, trainSamples, testSamples, epochs, perRound, start, final, fraction, lr, mnist, fashion, device,
        };
        compare.SetAction(parse =>
        {
            var chosenSettings = List(parse.GetValue(settings)!, GrowComparison.Settings, "--settings");
            var chosenStrategies = List(parse.GetValue(strategies)!, GrowComparison.Strategies, "--strategies");
            int seedCount = parse.GetValue(seeds);
            if (seedCount < 1) throw new ArgumentException("--seeds must be ≥ 1");
            var o = new GrowComparisonOptions
            {
                Start = parse.GetValue(start), Final = parse.GetValue(final), Epochs = parse.GetValue(epochs), EpochsPerRound = parse.GetValue(perRound),
                Fraction = parse.GetValue(fraction), LearningRate = parse.GetValue(lr),
            };
            if (o.Start < 1 || o.Final < o.Start) throw new ArgumentException($"--start {o.Start} and --final {o.Final}: need 1 ≤ start ≤ final");
            bool asJson = parse.GetValue(json);
            var folder = Path.GetFullPath(parse.GetValue(output)!);
            Directory.CreateDirectory(folder);
            using var dev = DeviceCatalog.Open(parse.GetValue(device));
            var results = new List<GrowResult>();
            foreach (var setting in chosenSettings)
            {
                string? dir = setting.StartsWith("fashion", StringComparison.Ordinal) ? parse.GetValue(fashion) : parse.GetValue(mnist);
                if (dir is not null && !Directory.Exists(dir))
                    throw new DirectoryNotFoundException($"{setting}: data folder '{dir}' does not exist{(setting.StartsWith("fashion", StringComparison.Ordinal) ? " (Debian: apt-get install dataset-fashion-mnist, or --fashion DIR)" : "")}");
                var (fullTrain, fullTest) = DatasetLoader.Load(dir);
                var stats = fullTrain.PixelStatistics();
                fullTrain.Standardize(stats.Mean, stats.Std);
                fullTest.Standardize(stats.Mean, stats.Std);
                var train = GrowComparison.Subset(fullTrain, parse.GetValue(trainSamples));
                var test = GrowComparison.Subset(fullTest, parse.GetValue(testSamples));
                foreach (var strategy in chosenStrategies)
                    for (int seed = 0; seed < seedCount; seed++)
                    {
                        var r = GrowComparison.Run(dev, setting, strategy, seed, train, test, stats, o);
                        results.Add(r);
                        if (asJson)
                            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
                            {
                                ["bench"] = "grow", ["setting"] = r.Setting, ["strategy"] = r.Strategy, ["seed"] = r.Seed, ["final_width"] = r.FinalWidth,
                                ["params"] = r.Params, ["epochs"] = r.Epochs, ["test_loss"] = r.TestLoss, ["test_accuracy"] = r.TestAccuracy, ["seconds"] = r.Seconds,
                            }));
                        else
                            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                                $"{r.Setting,-14}{r.Strategy,-10} seed {r.Seed}  width {r.FinalWidth,3}  params {r.Params,7:N0}  test loss {r.TestLoss:F4}  acc {r.TestAccuracy:P2}  {r.Seconds:F1} s"));
                    }
                Plot(folder, setting, results.Where(r => r.Setting == setting).ToList());
            }
            RunFolder.WriteAtomically(Path.Combine(folder, "results.json"), JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
            if (!asJson) Summary(results);
            return 0;
        });
        return new Command("grow", "Growing networks by splitting (docs/math.md §5).") { compare };
    }

    private static string[] List(string text, string[] valid, string option)
    {
        var items = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var item in items)
            if (!valid.Contains(item)) throw new ArgumentException($"{option}: '{item}' is not one of {string.Join(", ", valid)}");
        if (items.Length == 0) throw new ArgumentException($"{option} is empty");
        return items;
    }

    private static void Plot(string folder, string setting, List<GrowResult> results)
    {
        var loss = results.GroupBy(r => r.Strategy).Select(g =>
        {
            int epochs = g.Min(r => r.TestLossPerEpoch.Length);
            var mean = Enumerable.Range(0, epochs).Select(e => g.Average(r => r.TestLossPerEpoch[e])).ToArray();
            return new PlotSeries(g.Key, Enumerable.Range(1, epochs).Select(e => (double)e).ToArray(), mean);
        }).ToList();
        Plots.SaveLines(Path.Combine(folder, $"{setting}-loss.png"), $"{setting}: test loss (mean over seeds)", "epoch", "test loss", loss);
        var lambdas = results.Where(r => r.Rounds.Count > 0 && r.Strategy != "random").GroupBy(r => r.Strategy).SelectMany(g =>
        {
            int rounds = g.Min(r => r.Rounds.Count);
            double[] x = Enumerable.Range(0, rounds).Select(i => (double)i).ToArray();
            double Stat(GrowResult r, int i, Func<double[], double> f) => r.Rounds[i].Lambdas.Length == 0 ? double.NaN : f(r.Rounds[i].Lambdas);
            return new[]
            {
                new PlotSeries($"{g.Key}: mean λ of split neurons", x, Enumerable.Range(0, rounds).Select(i => g.Average(r => Stat(r, i, l => l.Average()))).ToArray()),
                new PlotSeries($"{g.Key}: most negative λ", x, Enumerable.Range(0, rounds).Select(i => g.Average(r => Stat(r, i, l => l.Min()))).ToArray()),
            };
        }).ToList();
        if (lambdas.Count > 0)
            Plots.SaveLines(Path.Combine(folder, $"{setting}-lambda.png"), $"{setting}: λ_min of split neurons per round (mean over seeds)", "round", "λ_min", lambdas);
    }

    private static void Summary(List<GrowResult> results)
    {
        Console.WriteLine($"\n{"setting",-14}{"strategy",-10}{"width",6}{"test loss",18}{"test accuracy",22}");
        foreach (var g in results.GroupBy(r => (r.Setting, r.Strategy)))
        {
            var loss = g.Select(r => r.TestLoss).ToArray();
            var acc = g.Select(r => r.TestAccuracy * 100).ToArray();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{g.Key.Setting,-14}{g.Key.Strategy,-10}{g.Max(r => r.FinalWidth),6}{loss.Average(),10:F4} ± {Std(loss):F4}{acc.Average(),12:F2} ± {Std(acc):F2} %"));
        }
    }

    private static double Std(double[] x)
    {
        if (x.Length < 2) return 0;
        double mean = x.Average();
        return Math.Sqrt(x.Sum(v => (v - mean) * (v - mean)) / (x.Length - 1));
    }
}
