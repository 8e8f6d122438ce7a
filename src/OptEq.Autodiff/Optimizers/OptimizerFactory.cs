namespace OptEq.Autodiff.Optimizers;

/// <summary>Builds an optimizer from its kind and the training settings: the one place that maps names to optimizers.</summary>
public static class OptimizerFactory
{
    /// <summary>The names <see cref="Parse"/> accepts, in <see cref="OptimizerKind"/> order.</summary>
    public static IReadOnlyList<string> Names { get; } = ["adam", "adamw", "sgd", "rmsprop", "ddpnopt"];

    /// <summary>The kind named by <paramref name="name"/> (case-insensitive); an unknown name lists the valid ones.</summary>
    public static OptimizerKind Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Trim().ToLowerInvariant() switch
        {
            "adam" => OptimizerKind.Adam,
            "adamw" => OptimizerKind.AdamW,
            "sgd" => OptimizerKind.Sgd,
            "rmsprop" => OptimizerKind.Rmsprop,
            "ddpnopt" => OptimizerKind.Ddpnopt,
            _ => throw new ArgumentException($"unknown optimizer '{name}'; valid: {string.Join(", ", Names)}", nameof(name)),
        };
    }

    public static string Name(OptimizerKind kind) => kind switch
    {
        OptimizerKind.Adam => "adam",
        OptimizerKind.AdamW => "adamw",
        OptimizerKind.Sgd => "sgd",
        OptimizerKind.Rmsprop => "rmsprop",
        OptimizerKind.Ddpnopt => "ddpnopt",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, $"unknown optimizer kind; valid: {string.Join(", ", Names)}"),
    };

    /// <summary>
    /// An optimizer of <paramref name="kind"/> over <paramref name="parameters"/> at <paramref name="learningRate"/> with
    /// weight decay <paramref name="weightDecay"/> (L2 for Adam and SGD, decoupled for AdamW); SGD uses momentum 0.9, Nesterov.
    /// </summary>
    public static Optimizer<T> Create<T>(OptimizerKind kind, IEnumerable<Parameter<T>> parameters, double learningRate, double weightDecay = 0)
        where T : unmanaged, IFloatingPointIeee754<T> => kind switch
    {
        OptimizerKind.Adam => new Adam<T>(parameters, new AdamOptions { LearningRate = learningRate, WeightDecay = weightDecay }),
        OptimizerKind.AdamW => new AdamW<T>(parameters, new AdamWOptions { LearningRate = learningRate, WeightDecay = weightDecay }),
        OptimizerKind.Sgd => new Sgd<T>(parameters, new SgdOptions { LearningRate = learningRate, Momentum = 0.9, Nesterov = true, WeightDecay = weightDecay }),
        OptimizerKind.Rmsprop => new Rmsprop<T>(parameters, new RmspropOptions { LearningRate = learningRate, WeightDecay = weightDecay }),
        // DDPNOpt is a training step, not an update from flat gradients: the trainer builds it over its base optimizer.
        OptimizerKind.Ddpnopt => throw new ArgumentException("ddpnopt is a training step over a base optimizer (DdpnStep), not a gradient optimizer: create its base (sgd, rmsprop or adam) here", nameof(kind)),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, $"unknown optimizer kind; valid: {string.Join(", ", Names)}"),
    };
}
