using System.CommandLine;
using OptEq.Autodiff.Growth;

namespace OptEq.Cli.Commands;

/// <summary>The <c>--grow…</c> options of <c>opteq train</c>: train → split → train rounds (docs/math.md §5.3).</summary>
public sealed class GrowOptions
{
    private static readonly GrowthOptions Defaults = new();

    public Option<string?> Strategy { get; } = new("--grow") { Description = "Grow the model while training: splitting, fast, signed or random (dense mlp layers and OptEq units)." };
    public Option<double> Fraction { get; } = new("--grow-fraction") { Description = "At most this fraction of the neurons is split per round.", DefaultValueFactory = _ => Defaults.Fraction };
    public Option<int> MaxWidth { get; } = new("--grow-max-width") { Description = "No layer grows past this width.", DefaultValueFactory = _ => Defaults.MaxWidth };
    public Option<int> EpochsPerRound { get; } = new("--grow-epochs") { Description = "Epochs per round (splits follow every round but the last; --epochs is the total).", DefaultValueFactory = _ => Defaults.EpochsPerRound };
    public Option<double> Epsilon { get; } = new("--grow-epsilon") { Description = "Offspring offset ε.", DefaultValueFactory = _ => Defaults.Epsilon };
    public Option<int> Samples { get; } = new("--grow-samples") { Description = "Training samples the splitting matrices are estimated on.", DefaultValueFactory = _ => Defaults.AnalysisSamples };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Strategy, Fraction, MaxWidth, EpochsPerRound, Epsilon, Samples }) command.Options.Add(option);
    }

    /// <summary>The growth options, or null without --grow.</summary>
    public GrowthOptions? Parse(ParseResult parse) => parse.GetValue(Strategy) is not string strategy ? null : new GrowthOptions
    {
        Strategy = GrowthStrategies.Parse(strategy), Fraction = parse.GetValue(Fraction), MaxWidth = parse.GetValue(MaxWidth),
        EpochsPerRound = parse.GetValue(EpochsPerRound), Epsilon = parse.GetValue(Epsilon), AnalysisSamples = parse.GetValue(Samples),
    };
}
