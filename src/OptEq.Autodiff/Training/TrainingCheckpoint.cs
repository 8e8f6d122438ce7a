using OptEq.Autodiff.Checkpoints;
using OptEq.Autodiff.Models;
using OptEq.Autodiff.Optimizers;
using OptEq.Autodiff.Validation;

namespace OptEq.Autodiff.Training;

/// <summary>
/// A training checkpoint: the model's configuration and parameters, the optimizer's state and step count, the epoch
/// counter, the training seed and the <see cref="TrainingRecord"/> (options, data fingerprint, best accuracy, history).
/// Restoring it makes the continued run reproduce the uninterrupted one; it refuses another model (naming every field
/// that differs) and, unless allowed, other training options.
/// </summary>
internal static class TrainingCheckpoint
{
    public static void Save(string path, Classifier<float> model, Optimizer<float> optimizer, int completedEpochs, int seed, TrainingRecord? record = null)
    {
        var checkpoint = new Checkpoint(model.Config.ToJson()) { Epoch = completedEpochs, Step = optimizer.StepCount, Training = record?.ToJson() };
        checkpoint.Seeds["training"] = seed;
        ModelCard.Describe(checkpoint, model.Config, record is null ? null : Losses.ClassificationLoss.Parse(record.Loss));
        checkpoint.AddParameters(model.Parameters());
        checkpoint.AddGroup(Checkpoint.OptimizerGroup, optimizer.State());
        checkpoint.Save(path);
    }

    /// <summary>
    /// Restores parameters and optimizer state from a checkpoint of the same model; returns its completed epochs and its
    /// training record (null in a checkpoint written before records were kept). Everything is checked before anything
    /// is copied: the model field by field, the counters' ranges, every value finite, and — when <paramref name="run"/>
    /// is given and <paramref name="allowOptionChange"/> is not — the training options.
    /// </summary>
    public static (int CompletedEpochs, TrainingRecord? Record) Restore(string path, Classifier<float> model, Optimizer<float> optimizer,
        TrainingRecord? run = null, bool allowOptionChange = false)
    {
        var checkpoint = Checkpoint.Load(path);
        var config = ModelConfig.FromJson(checkpoint.Config, path);
        // The initialisation seed does not matter once the weights are restored; the training seed is compared below.
        var modelDifferences = JsonDifferences.Of(WithoutGram(config.ToJson()), WithoutGram(model.Config.ToJson()), "the checkpoint", "this run", "seed");
        if (modelDifferences.Count > 0)
            throw InputException.Option("--resume", $"{path} holds another model than this run builds: {string.Join("; ", modelDifferences)} " +
                                                    "(give the model options of the run that wrote it)");
        CheckpointValidation.CheckCounters(checkpoint);
        CheckpointValidation.CheckValues(checkpoint);
        var stored = checkpoint.Training is null ? null : TrainingRecord.FromJson(checkpoint.Training, path);
        if (stored is not null && run is not null && !allowOptionChange && stored.Differences(run) is { Count: > 0 } differences)
            throw InputException.Option("--resume", $"{path} was trained with other options: {string.Join("; ", differences)}; give the same options to " +
                                                    "continue the run exactly, or --allow-option-change to continue with the new ones");
        if (stored is not null && stored.History.Any(m => m.Epoch < 1 || m.Epoch > checkpoint.Epoch))
            throw InputException.Content(path, $"metadata '{Checkpoint.TrainingKey}' lists an epoch outside 1 … {checkpoint.Epoch} (the checkpoint's epoch count)");
        checkpoint.RestoreParameters(model.Parameters());
        // RestoreGroup writes the optimizer's state tensors in place (all or nothing); only the step count remains.
        checkpoint.RestoreGroup(Checkpoint.OptimizerGroup, optimizer.State(), "optimizer state", "the optimizer");
        optimizer.StepCount = (int)checkpoint.Step;
        return ((int)checkpoint.Epoch, stored);
    }

    // conv-opteq's WᵀW method ("gram": convs, blocked, fourier, auto) is how the solves run, not what the model is (the same
    // results up to rounding, as on another device): a run may resume with another one, e.g. an old checkpoint under --gram auto.
    private static string WithoutGram(string json)
    {
        var root = System.Text.Json.Nodes.JsonNode.Parse(json)!;
        Strip(root);
        return root.ToJsonString();

        static void Strip(System.Text.Json.Nodes.JsonNode? node)
        {
            if (node is System.Text.Json.Nodes.JsonObject o)
            {
                foreach (var key in o.Select(p => p.Key).Where(k => string.Equals(k, "gram", StringComparison.OrdinalIgnoreCase)).ToList()) o.Remove(key);
                foreach (var (_, child) in o) Strip(child);
            }
            else if (node is System.Text.Json.Nodes.JsonArray a)
                foreach (var child in a) Strip(child);
        }
    }
}
