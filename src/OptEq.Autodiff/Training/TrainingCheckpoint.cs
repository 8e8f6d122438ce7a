using OptEq.Autodiff.Checkpoints;
using OptEq.Autodiff.Models;
using OptEq.Autodiff.Optimizers;

namespace OptEq.Autodiff.Training;

/// <summary>
/// A training checkpoint: the model's configuration and parameters, the optimizer's state and step count, the epoch
/// counter and the training seed. Restoring it makes the continued run reproduce the uninterrupted one.
/// </summary>
internal static class TrainingCheckpoint
{
    public static void Save(string path, Classifier<float> model, Optimizer<float> optimizer, int completedEpochs, int seed)
    {
        var checkpoint = new Checkpoint(model.Config.ToJson()) { Epoch = completedEpochs, Step = optimizer.StepCount };
        checkpoint.Seeds["training"] = seed;
        checkpoint.AddParameters(model.Parameters());
        checkpoint.AddGroup(Checkpoint.OptimizerGroup, optimizer.State());
        checkpoint.Save(path);
    }

    /// <summary>Restores parameters and optimizer state from a checkpoint of the same model; returns its completed epochs.</summary>
    public static int Restore(string path, Classifier<float> model, Optimizer<float> optimizer)
    {
        var checkpoint = Checkpoint.Load(path);
        var config = ModelConfig.FromJson(checkpoint.Config, path);
        if (config.ToJson() != model.Config.ToJson())
            throw new InvalidDataException($"{path}: the checkpoint is of another model ({config.ToJson()}); this run builds {model.Config.ToJson()}");
        checkpoint.RestoreParameters(model.Parameters());
        // RestoreGroup writes the optimizer's state tensors in place (all or nothing); only the step count remains.
        checkpoint.RestoreGroup(Checkpoint.OptimizerGroup, optimizer.State(), "optimizer state", "the optimizer");
        optimizer.StepCount = (int)checkpoint.Step;
        return (int)checkpoint.Epoch;
    }
}
