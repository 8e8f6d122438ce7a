using System.CommandLine;
using OptEq.Autodiff.Checkpoints;
using OptEq.Autodiff.Data;
using OptEq.Autodiff.Models;
using OptEq.Autodiff.Validation;

namespace OptEq.Cli.Commands;

/// <summary>The ranges of <c>opteq train</c>'s options (docs/cli.md), and the checks of the data they train on.</summary>
internal static class TrainOptionChecks
{
    public const int MaxBatch = 1 << 16;
    public const int MaxIterations = 100_000;
    public const int MaxShift = 64;

    public static void Check(ParseResult parse, Option<int> hidden, Option<int[]> tiers, Option<int[]> layers, Option<double> gamma,
        Option<int> forwardIterations, Option<double> forwardTolerance, Option<int> backwardIterations, Option<int> epochs, Option<int> batch,
        Option<double> lr, Option<double> weightDecay, Option<double> clip, Option<int> augment, Option<int?> stopAfter)
    {
        OptionChecks.Range(parse.GetValue(hidden), hidden.Name, 1, ModelLimits.MaxWidth);
        OptionChecks.Each(parse.GetValue(tiers)!, tiers.Name, 1, ModelLimits.MaxWidth);
        OptionChecks.Each(parse.GetValue(layers)!, layers.Name, 1, ModelLimits.MaxWidth);
        OptionChecks.OpenUnit(parse.GetValue(gamma), gamma.Name);
        OptionChecks.Range(parse.GetValue(forwardIterations), forwardIterations.Name, 1, MaxIterations);
        OptionChecks.Positive(parse.GetValue(forwardTolerance), forwardTolerance.Name);
        OptionChecks.Range(parse.GetValue(backwardIterations), backwardIterations.Name, 1, MaxIterations);
        int epochCount = OptionChecks.Range(parse.GetValue(epochs), epochs.Name, 1, (int)CheckpointValidation.MaxEpoch);
        OptionChecks.Range(parse.GetValue(batch), batch.Name, 1, MaxBatch);
        OptionChecks.Positive(parse.GetValue(lr), lr.Name);
        OptionChecks.NonNegative(parse.GetValue(weightDecay), weightDecay.Name);
        OptionChecks.NonNegative(parse.GetValue(clip), clip.Name, "0 turns clipping off");
        OptionChecks.Range(parse.GetValue(augment), augment.Name, 0, MaxShift);
        if (parse.GetValue(stopAfter) is int stop) OptionChecks.Range(stop, stopAfter.Name, 1, epochCount, "an epoch of the run's --epochs");
    }

    /// <summary>The training set must have a spread to standardise by, and the shift must leave most of an image in view.</summary>
    public static void CheckData(Dataset train, string? dataFolder, int shift)
    {
        string where = dataFolder ?? "the bundled MNIST";
        var (_, std) = train.PixelStatistics();
        if (!(std > 0))
            throw InputException.Content(where, $"every training pixel has the same value (standard deviation {std}): there is nothing to learn and no standardisation is possible");
        int side = Math.Min(train.Rows, train.Cols);
        if (shift > 0 && 2 * shift >= side)
            throw InputException.Option("--augment", $"a shift of {shift} pixels moves {side}×{side}-pixel images by half their size or more; give less than {(side + 1) / 2}");
    }

    /// <summary>
    /// With <c>--holdout N</c> (N &gt; 0): splits the last N images off <paramref name="train"/> and returns them; null for 0.
    /// At least one full batch must stay to train on.
    /// </summary>
    public static Dataset? SplitHoldout(ref Dataset train, int count, int batch)
    {
        if (count == 0) return null;
        if (count < 0) throw InputException.Option("--holdout", $"must be 0 (off) or a positive number of images, got {count}");
        if (count > train.Count - Math.Max(batch, 1))
            throw InputException.Option("--holdout", $"{count} of the {train.Count} training images leaves fewer than one batch ({batch}) to train on");
        (train, var heldOut) = train.SplitTail(count);
        return heldOut;
    }
}
