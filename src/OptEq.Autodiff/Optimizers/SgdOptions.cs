namespace OptEq.Autodiff.Optimizers;

/// <summary>
/// Options of <see cref="Sgd{T}"/> (PyTorch's torch.optim.SGD). Each value is checked where it is written;
/// the combination (Nesterov) is checked when the optimizer is built.
/// </summary>
public sealed record SgdOptions
{
    private readonly double _learningRate = 0.01;
    private readonly double _momentum;
    private readonly double _dampening;
    private readonly double _weightDecay;

    /// <summary>Initial learning rate (finite, ≥ 0).</summary>
    public double LearningRate { get => _learningRate; init => _learningRate = OptionChecks.NonNegative(value, nameof(LearningRate)); }

    /// <summary>Momentum μ (finite, ≥ 0; 0 = plain SGD): buf ← μ·buf + (1 − dampening)·g.</summary>
    public double Momentum { get => _momentum; init => _momentum = OptionChecks.NonNegative(value, nameof(Momentum)); }

    /// <summary>Dampening in [0, 1] of the gradient added to the momentum buffer (not applied on the first step).</summary>
    public double Dampening { get => _dampening; init => _dampening = OptionChecks.UnitInterval(value, nameof(Dampening)); }

    /// <summary>Nesterov momentum: the step is g + μ·buf instead of buf. Needs Momentum &gt; 0 and Dampening = 0.</summary>
    public bool Nesterov { get; init; }

    /// <summary>L2 penalty λ (finite, ≥ 0): λ·p is added to the gradient, except for parameters marked NoWeightDecay.</summary>
    public double WeightDecay { get => _weightDecay; init => _weightDecay = OptionChecks.NonNegative(value, nameof(WeightDecay)); }

    /// <summary>Checks what single values cannot: Nesterov's requirements.</summary>
    public void Validate()
    {
        if (Nesterov && (Momentum <= 0 || Dampening != 0))
            throw new ArgumentException($"Nesterov needs Momentum > 0 and Dampening = 0 (got Momentum {Momentum}, Dampening {Dampening})", nameof(Nesterov));
    }
}
