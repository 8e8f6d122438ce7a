using OptEq.Autodiff.Layers;

namespace OptEq.Autodiff.Models;

/// <summary>
/// A model that is a stack of layers, built from a <see cref="ModelConfig"/>'s <see cref="ModelSpec"/>: each layer maps
/// the previous one's output, the last gives the logits. Parameters are drawn layer by layer from one generator seeded
/// with <see cref="ModelConfig.Seed"/>; parameter names are stable (they key the checkpoint). A model is itself a layer.
/// </summary>
public sealed class Classifier<T> : ILayer<T>, IDisposable where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly ILayer<T>[] _layers;

    public Classifier(Device device, ModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        Spec = config.Spec;
        var rng = new Random(config.Seed);
        var layers = new List<ILayer<T>>();
        try
        {
            int width = Spec.Input;
            foreach (var layer in Spec.Layers)
            {
                layers.Add(layer.Build<T>(device, width, rng));
                width = layer.OutputSize(width);
            }
        }
        catch
        {
            foreach (var layer in layers) (layer as IDisposable)?.Dispose();
            throw;
        }
        _layers = [.. layers];
        var equilibrium = _layers.OfType<IEquilibriumLayer<T>>().FirstOrDefault();
        HasEquilibrium = equilibrium is not null;
        Report = equilibrium?.Report ?? new EquilibriumReport();
        SupportsReplay = _layers.All(l => l.SupportsReplay);
    }

    public ModelConfig Config { get; }
    /// <summary>The layers this model is made of (the same as <see cref="ModelConfig.Spec"/> of <see cref="Config"/>).</summary>
    public ModelSpec Spec { get; }
    public IReadOnlyList<ILayer<T>> Layers => _layers;
    /// <summary>Solver statistics of the last forward and backward pass of the (first) equilibrium layer; all zero for an explicit model.</summary>
    public EquilibriumReport Report { get; }
    /// <summary>Whether any layer solves for an equilibrium (false for an explicit model such as mlp).</summary>
    public bool HasEquilibrium { get; }
    /// <summary>Whether a training step of this model can be captured on a replayable tape (all but the generic DEQ's eager solve).</summary>
    public bool SupportsReplay { get; }

    /// <summary>Logits [batch, classes] for an input batch [batch, input].</summary>
    public Variable<T> Forward(Variable<T> x)
    {
        foreach (var layer in _layers) x = layer.Forward(x);
        return x;
    }

    public IEnumerable<Parameter<T>> Parameters() => _layers.SelectMany(l => l.Parameters());

    public long ParameterCount => Parameters().Sum(p => p.Length);

    public void Dispose()
    {
        foreach (var layer in _layers) (layer as IDisposable)?.Dispose();
    }
}
