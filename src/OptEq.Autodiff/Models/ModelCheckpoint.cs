using OptEq.Autodiff.Checkpoints;

namespace OptEq.Autodiff.Models;

/// <summary>Rebuilds a classifier from a checkpoint: the configuration and its spec in the metadata (an older checkpoint without a spec gets its recipe's), then the parameters.</summary>
public static class ModelCheckpoint
{
    public static Classifier<float> Load(Device device, string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such checkpoint", path);
        var checkpoint = Checkpoint.Load(path);
        var config = ModelConfig.FromJson(checkpoint.Config, path);
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
