using OptEq.Autodiff.Losses;
using OptEq.Autodiff.Models;

namespace OptEq.Autodiff.Training;

/// <summary>
/// When training must stop: a NaN or infinite loss, or an equilibrium solve that met NaN or infinity. The solver isolates
/// a non-finite sample (it keeps its initial state), so the loss alone can stay finite while the model has broken: both
/// are divergence. Checked after the backward pass and before the optimizer touches the parameters. A finite loss past a
/// bound is divergence too (<see cref="CheckBound"/>), and so is an epoch that ends with non-finite parameters or test
/// loss, or a training loss far above its best (<see cref="CheckEpoch"/>): such an epoch is never saved.
/// </summary>
internal static class DivergencePolicy
{
    /// <param name="batchIndex">The batch's position in its epoch (from 0).</param>
    /// <param name="completedEpochs">Epochs whose checkpoint is on disk (0: none).</param>
    public static void Check(float loss, int nonFiniteSamples, int epoch, int batchIndex, int completedEpochs)
    {
        if (float.IsFinite(loss) && nonFiniteSamples == 0) return;
        throw new TrainingDivergedException((float.IsFinite(loss)
            ? $"the equilibrium solve met NaN or infinity for {nonFiniteSamples} samples at epoch {epoch}, batch {batchIndex + 1}"
            : $"the loss became {loss} at epoch {epoch}, batch {batchIndex + 1}") + "; training stopped" +
            (completedEpochs > 0 ? $" and the checkpoint of epoch {completedEpochs} was kept" : "") + " (try a lower --lr or --clip)");
    }

    /// <summary>A batch loss above this many times the loss of an uninformed output (ln(classes) for the cross-entropy, a uniform
    /// guess; ½C² for the MMC loss, the output at the origin) has exploded: no trained model gets there.</summary>
    public const double LossBoundFactor = 100;
    /// <summary>An epoch whose training loss is above this many times the best epoch's (and above an uninformed output's) has diverged.</summary>
    public const double EpochLossFactor = 10;

    public static void CheckBound(float loss, int classes, int epoch, int batchIndex, int completedEpochs, ClassificationLoss? kind = null)
    {
        kind ??= ClassificationLoss.CrossEntropy;
        double bound = LossBoundFactor * kind.UninformedLoss(classes);
        if (loss <= bound) return;
        throw Diverged($"the loss reached {loss:G4} at epoch {epoch}, batch {batchIndex + 1}, over the bound {bound:G3} ({LossBoundFactor} × {Uninformed(kind, classes)})", completedEpochs);
    }

    private static string Uninformed(ClassificationLoss kind, int classes) => kind.Kind == LossKind.CrossEntropy
        ? $"ln {classes}, the loss of a uniform guess"
        : $"½C² = {kind.UninformedLoss(classes):G3}, the MMC loss of an output at the origin";

    /// <summary>Checked after an epoch's evaluation and before its checkpoint is written.</summary>
    public static void CheckEpoch(EpochMetrics metrics, IReadOnlyList<EpochMetrics> earlier, Classifier<float> model, int completedEpochs, ClassificationLoss? kind = null)
    {
        kind ??= ClassificationLoss.CrossEntropy;
        foreach (var p in model.Parameters())
        {
            var values = p.Value.ToArray();
            int bad = Array.FindIndex(values, v => !float.IsFinite(v));
            if (bad >= 0) throw Diverged($"parameter '{p.Name}' became {values[bad]} (element {bad}) at epoch {metrics.Epoch}", completedEpochs);
        }
        if (!double.IsFinite(metrics.TestLoss) || !double.IsFinite(metrics.TrainLoss))
            throw Diverged($"the loss became non-finite at epoch {metrics.Epoch} (train {metrics.TrainLoss}, test {metrics.TestLoss})", completedEpochs);
        if (earlier.Count == 0) return;
        double best = earlier.Min(m => m.TrainLoss), uniform = kind.UninformedLoss(model.Config.Classes);
        if (metrics.TrainLoss > EpochLossFactor * best && metrics.TrainLoss > uniform)
            throw Diverged($"the training loss of epoch {metrics.Epoch}, {metrics.TrainLoss:G4}, is over {EpochLossFactor} × the best epoch's ({best:G4}) " +
                           $"and over an uninformed output's ({Uninformed(kind, model.Config.Classes)}: {uniform:G3})", completedEpochs);
    }

    private static TrainingDivergedException Diverged(string what, int completedEpochs) => new(
        $"{what}; training stopped" + (completedEpochs > 0 ? $" and the checkpoints of epoch {completedEpochs} and of the best epoch were kept" : "") +
        " (try a lower --lr or --clip)");
}
