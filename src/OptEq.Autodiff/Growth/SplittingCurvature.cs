using OptEq.Kernels.Activations;

namespace OptEq.Autodiff.Growth;

/// <summary>
/// σ′ and σ″ of an activation, as the splitting matrix needs them (docs/math.md §5.2). Piecewise-linear activations
/// (ReLU, leaky ReLU) have σ″ = 0 almost everywhere; with <see cref="Surrogate"/> their σ″ is that of the β-softplus,
/// (1 − a)·β·s(βz)(1 − s(βz)) with s the logistic function and a the leaky slope (β = 3 as in the reference code).
/// </summary>
public sealed record SplittingCurvature(Activation Activation, bool Surrogate = true, double Beta = 3)
{
    /// <summary>Whether σ(c·z) = c·σ(z) for c &gt; 0 (needed to split an OptEq unit without changing its equilibrium).</summary>
    public bool PositivelyHomogeneous => Activation.Kind is ActivationKind.ReLU or ActivationKind.LeakyReLU or ActivationKind.Identity;

    public double First(double z) => Activation.Kind switch
    {
        ActivationKind.ReLU => z > 0 ? 1 : 0,
        ActivationKind.LeakyReLU => z > 0 ? 1 : Activation.Parameter,
        ActivationKind.Identity => 1,
        ActivationKind.Tanh => 1 - Math.Tanh(z) * Math.Tanh(z),
        ActivationKind.Sigmoid => Logistic(z) * (1 - Logistic(z)),
        ActivationKind.Softplus => Logistic(z),
        _ => throw Unsupported(),
    };

    public double Second(double z) => Activation.Kind switch
    {
        ActivationKind.ReLU => Surrogate ? Beta * Logistic(Beta * z) * (1 - Logistic(Beta * z)) : 0,
        ActivationKind.LeakyReLU => Surrogate ? (1 - Activation.Parameter) * Beta * Logistic(Beta * z) * (1 - Logistic(Beta * z)) : 0,
        ActivationKind.Identity => 0,
        ActivationKind.Tanh => -2 * Math.Tanh(z) * (1 - Math.Tanh(z) * Math.Tanh(z)),
        ActivationKind.Sigmoid => Logistic(z) * (1 - Logistic(z)) * (1 - 2 * Logistic(z)),
        ActivationKind.Softplus => Logistic(z) * (1 - Logistic(z)),
        _ => throw Unsupported(),
    };

    private static double Logistic(double z) => 1 / (1 + Math.Exp(-z));

    private NotSupportedException Unsupported()
        => new($"splitting: activation '{Activation.Kind}' is not supported (relu, leaky-relu, identity, tanh, sigmoid, softplus)");
}
