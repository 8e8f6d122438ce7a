namespace OptEq.Autodiff.Training;

/// <summary>
/// When training must stop: a NaN or infinite loss, or an equilibrium solve that met NaN or infinity. The solver isolates
/// a non-finite sample (it keeps its initial state), so the loss alone can stay finite while the model has broken: both
/// are divergence. Checked after the backward pass and before the optimizer touches the parameters.
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
}
