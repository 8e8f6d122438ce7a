using OptEq.Autodiff.Checkpoints;

namespace OptEq.Autodiff.Models;

/// <summary>
/// Rebuilds a classifier from a checkpoint: the configuration and its spec in the metadata (an older checkpoint without a
/// spec gets its recipe's), then the parameters. The configuration is read strictly and the tensors are checked finite
/// (<see cref="CheckpointValidation"/>) before the model is built.
/// </summary>
public static class ModelCheckpoint
{
    public static Classifier<float> Load(Device device, string path)
    {
        var checkpoint = Checkpoint.Load(path);
        // Everything is checked on the host before the model is allocated: the spec's sizes, then the values.
        var config = ModelConfig.FromJson(checkpoint.Config, path);
        CheckpointValidation.CheckCounters(checkpoint);
        CheckpointValidation.CheckValues(checkpoint);
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
