namespace OptEq.Autodiff.Optimizers;

/// <summary>Options of <see cref="Rmsprop{T}"/> (PyTorch's torch.optim.RMSprop without momentum, not centred). Each value is checked where it is written.</summary>
public sealed record RmspropOptions
{
    private readonly double _learningRate = 1e-2;
    private readonly double _alpha = 0.99;
    private readonly double _epsilon = 1e-8;
    private readonly double _weightDecay;

    /// <summary>Initial learning rate (finite, ≥ 0).</summary>
    public double LearningRate { get => _learningRate; init => _learningRate = OptionChecks.NonNegative(value, nameof(LearningRate)); }

    /// <summary>Smoothing constant α in [0, 1) of the squared-gradient average.</summary>
    public double Alpha { get => _alpha; init => _alpha = OptionChecks.Beta(value, nameof(Alpha)); }

    /// <summary>ε &gt; 0 added to √v in the denominator.</summary>
    public double Epsilon { get => _epsilon; init => _epsilon = OptionChecks.Positive(value, nameof(Epsilon)); }

    /// <summary>L2 penalty λ (finite, ≥ 0), skipped for parameters marked NoWeightDecay.</summary>
    public double WeightDecay { get => _weightDecay; init => _weightDecay = OptionChecks.NonNegative(value, nameof(WeightDecay)); }
}
