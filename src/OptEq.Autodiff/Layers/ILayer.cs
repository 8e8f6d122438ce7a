namespace OptEq.Autodiff.Layers;

/// <summary>A differentiable layer: maps a batch [batch, in] to [batch, out] on a tape.</summary>
public interface ILayer<T> : IModule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    Variable<T> Forward(Variable<T> x);

    /// <summary>Whether a training step through this layer can be captured on a replayable tape (all but an eager solve).</summary>
    bool SupportsReplay => true;
}

/// <summary>A layer that solves an equilibrium, with the statistics of its last solves.</summary>
public interface IEquilibriumLayer<T> : ILayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Solver statistics of the last forward and backward pass.</summary>
    EquilibriumReport Report { get; }
}

/// <summary>Deterministic initialisers (a seed gives the same weights on every device).</summary>
public static class Init
{
    /// <summary>Uniform in ±bound (bound = 1/√fanIn by default, as PyTorch's Linear).</summary>
    public static Tensor<T> Uniform<T>(Device device, Random rng, double bound, params int[] shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        long n = 1;
        foreach (var d in shape) n *= d;
        var data = new T[n];
        for (long i = 0; i < n; i++) data[i] = T.CreateChecked((2 * rng.NextDouble() - 1) * bound);
        return device.FromArray<T>(data, shape);
    }
}
