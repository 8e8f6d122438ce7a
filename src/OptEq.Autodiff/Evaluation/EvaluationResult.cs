namespace OptEq.Autodiff.Evaluation;

/// <summary>A classifier on a dataset: mean cross-entropy, accuracy, the confusion matrix and the forward solves' statistics.</summary>
public sealed record EvaluationResult
{
    public required int Samples { get; init; }
    /// <summary>Mean softmax cross-entropy over the samples.</summary>
    public required double Loss { get; init; }
    public required double Accuracy { get; init; }
    /// <summary>[true class, predicted class] counts.</summary>
    public required int[,] Confusion { get; init; }
    public required SolveStatistics Forward { get; init; }
}

/// <summary>
/// Per-sample results of the forward equilibrium solves over a dataset. Empty when the model reports none (an unrolled
/// model runs no solver); the distance bound and objective are present only for models that certify them (OptEq).
/// </summary>
public sealed record SolveStatistics
{
    /// <summary>Samples with per-sample solver results.</summary>
    public int Samples { get; init; }
    public double MeanIterations { get; init; }
    public int MaxIterations { get; init; }
    public double MedianRelResidual { get; init; }
    public double MaxRelResidual { get; init; }
    /// <summary>The certificate bound on ||z − z*|| (residual / (1 − ρ)): median and max; null when the model has none.</summary>
    public double? MedianDistanceBound { get; init; }
    public double? MaxDistanceBound { get; init; }
    /// <summary>Mean of the objective G; null when the model has none.</summary>
    public double? MeanObjective { get; init; }
}
