using OptEq.Autodiff.Checkpoints;
using OptEq.Autodiff.Losses;
using OptEq.Autodiff.Training;

namespace OptEq.Autodiff.Models;

/// <summary>
/// Rebuilds a classifier from a checkpoint: the configuration and its spec in the metadata (an older checkpoint without a
/// spec gets its recipe's), then the parameters. The configuration is read strictly and the tensors are checked finite
/// (<see cref="CheckpointValidation"/>) before the model is built.
/// </summary>
public static class ModelCheckpoint
{
    public static Classifier<float> Load(Device device, string path) => Load(device, path, readLoss: false, out _);

    /// <summary>
    /// As <see cref="Load(Device, string)"/>, and the loss the model was trained with (from the training record; the
    /// cross-entropy for a checkpoint without one or written before the loss was recorded), which fixes its prediction rule.
    /// </summary>
    public static Classifier<float> LoadWithLoss(Device device, string path, out ClassificationLoss loss) => Load(device, path, readLoss: true, out loss);

    private static Classifier<float> Load(Device device, string path, bool readLoss, out ClassificationLoss loss)
    {
        var checkpoint = Checkpoint.Load(path);
        // Everything is checked on the host before the model is allocated: the spec's sizes, then the values.
        var config = ModelConfig.FromJson(checkpoint.Config, path);
        CheckpointValidation.CheckCounters(checkpoint);
        CheckpointValidation.CheckValues(checkpoint);
        loss = !readLoss || checkpoint.Training is null ? ClassificationLoss.CrossEntropy : TrainingRecord.FromJson(checkpoint.Training, path).ParsedLoss(path);
        var model = new Classifier<float>(device, config);
        try
        {
            checkpoint.RestoreParameters(model.Parameters());
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}
