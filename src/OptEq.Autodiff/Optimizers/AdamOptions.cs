namespace OptEq.Autodiff.Optimizers;

/// <summary>
/// Options of <see cref="Adam{T}"/> (PyTorch's torch.optim.Adam, without AMSGrad). Each value is checked where it is written.
/// <see cref="AdamWOptions"/> is the same record with AdamW's default weight decay.
/// </summary>
public record AdamOptions
{
    private readonly double _learningRate = 1e-3;
    private readonly double _beta1 = 0.9;
    private readonly double _beta2 = 0.999;
    private readonly double _epsilon = 1e-8;
    private readonly double _weightDecay;

    /// <summary>Initial learning rate (finite, ≥ 0).</summary>
    public double LearningRate { get => _learningRate; init => _learningRate = OptionChecks.NonNegative(value, nameof(LearningRate)); }

    /// <summary>Decay β1 in [0, 1) of the first-moment (mean) average.</summary>
    public double Beta1 { get => _beta1; init => _beta1 = OptionChecks.Beta(value, nameof(Beta1)); }

    /// <summary>Decay β2 in [0, 1) of the second-moment (uncentred variance) average.</summary>
    public double Beta2 { get => _beta2; init => _beta2 = OptionChecks.Beta(value, nameof(Beta2)); }

    /// <summary>ε &gt; 0 added to √v̂ in the denominator.</summary>
    public double Epsilon { get => _epsilon; init => _epsilon = OptionChecks.Positive(value, nameof(Epsilon)); }

    /// <summary>
    /// Weight decay λ (finite, ≥ 0), skipped for parameters marked NoWeightDecay. Adam adds λ·p to the gradient (L2);
    /// AdamW multiplies p by 1 − lr·λ before the update (decoupled).
    /// </summary>
    public double WeightDecay { get => _weightDecay; init => _weightDecay = OptionChecks.NonNegative(value, nameof(WeightDecay)); }
}
