using System.Numerics;

namespace OptEq.Kernels.Activations;

public enum ActivationKind { ReLU, LeakyReLU, Tanh, Sigmoid, Softplus, SoftThreshold, HardTanh, Identity, Clipped }

/// <summary>Receives the concrete activation struct, so generic kernels are specialised without boxing.</summary>
public interface IActivationConsumer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    void Consume<TAct>(TAct activation) where TAct : struct, IProxActivation<T>;
}

/// <summary>
/// The user-facing description of a proximal activation: a kind and its one parameter (leaky slope, λ).
/// Validated when built; <see cref="Accept{T,TConsumer}"/> hands the matching struct to generic code.
/// </summary>
public sealed record Activation
{
    private Activation(ActivationKind kind, double parameter)
    {
        Kind = kind;
        Parameter = parameter;
    }

    public ActivationKind Kind { get; }
    /// <summary>For <see cref="ActivationKind.Clipped"/>: the activation being clipped, and the box.</summary>
    public Activation? Inner { get; private init; }
    public double Lo { get; private init; }
    public double Hi { get; private init; }
    /// <summary>Leaky slope a for <see cref="ActivationKind.LeakyReLU"/>, threshold λ for <see cref="ActivationKind.SoftThreshold"/>, else 0.</summary>
    public double Parameter { get; }

    public static Activation ReLU { get; } = new(ActivationKind.ReLU, 0);
    public static Activation Tanh { get; } = new(ActivationKind.Tanh, 0);
    public static Activation Sigmoid { get; } = new(ActivationKind.Sigmoid, 0);
    public static Activation Softplus { get; } = new(ActivationKind.Softplus, 0);
    public static Activation HardTanh { get; } = new(ActivationKind.HardTanh, 0);
    public static Activation Identity { get; } = new(ActivationKind.Identity, 0);

    public static Activation LeakyReLU(double slope)
    {
        if (!(slope > 0 && slope <= 1))
            throw new ArgumentOutOfRangeException(nameof(slope), slope, "leaky ReLU slope must lie in (0, 1] for σ to be a proximal operator");
        return new(ActivationKind.LeakyReLU, slope);
    }

    public static Activation SoftThreshold(double lambda)
    {
        if (!(lambda >= 0) || double.IsInfinity(lambda))
            throw new ArgumentOutOfRangeException(nameof(lambda), lambda, "soft-threshold λ must be finite and ≥ 0");
        return new(ActivationKind.SoftThreshold, lambda);
    }

    /// <summary>This activation with its output clamped to [lo, hi]: prox of f + ι_[lo, hi], a box constraint on z.</summary>
    public Activation Clip(double lo, double hi)
    {
        if (!(lo < hi)) throw new ArgumentOutOfRangeException(nameof(hi), hi, $"box [{lo}, {hi}] is empty");
        return new Activation(ActivationKind.Clipped, 0) { Inner = this, Lo = lo, Hi = hi };
    }

    public static IReadOnlyList<string> Names { get; } = ["relu", "leaky-relu[:slope]", "tanh", "sigmoid", "softplus", "soft-threshold[:lambda]", "hard-tanh", "identity"];

    /// <summary>Parses "relu", "tanh", "leaky-relu:0.1", "soft-threshold:0.01", … ; an unknown name lists the valid ones.</summary>
    public static Activation Parse(string text)
    {
        var parts = text.Trim().ToLowerInvariant().Split(':', 2);
        double? parameter = null;
        if (parts.Length == 2)
        {
            if (!double.TryParse(parts[1], System.Globalization.CultureInfo.InvariantCulture, out var p))
                throw new ArgumentException($"activation '{text}': parameter '{parts[1]}' is not a number");
            parameter = p;
        }
        return parts[0] switch
        {
            "relu" => NoParameter(ReLU),
            "tanh" => NoParameter(Tanh),
            "sigmoid" => NoParameter(Sigmoid),
            "softplus" => NoParameter(Softplus),
            "hard-tanh" or "hardtanh" => NoParameter(HardTanh),
            "identity" => NoParameter(Identity),
            "leaky-relu" or "leakyrelu" => LeakyReLU(parameter ?? 0.01),
            "soft-threshold" or "softthreshold" => SoftThreshold(parameter ?? 0.01),
            _ => throw new ArgumentException($"unknown activation '{text}'; valid: {string.Join(", ", Names)}"),
        };

        Activation NoParameter(Activation a) => parameter is null ? a
            : throw new ArgumentException($"activation '{parts[0]}' takes no parameter");
    }

    public void Accept<T, TConsumer>(ref TConsumer consumer)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TConsumer : IActivationConsumer<T>
    {
        T p = T.CreateChecked(Parameter);
        switch (Kind)
        {
            case ActivationKind.ReLU: consumer.Consume(new ReLU<T>()); break;
            case ActivationKind.LeakyReLU: consumer.Consume(new LeakyReLU<T>(p)); break;
            case ActivationKind.Tanh: consumer.Consume(new Tanh<T>()); break;
            case ActivationKind.Sigmoid: consumer.Consume(new Sigmoid<T>()); break;
            case ActivationKind.Softplus: consumer.Consume(new Softplus<T>()); break;
            case ActivationKind.SoftThreshold: consumer.Consume(new SoftThreshold<T>(p)); break;
            case ActivationKind.HardTanh: consumer.Consume(new HardTanh<T>()); break;
            case ActivationKind.Identity: consumer.Consume(new Identity<T>()); break;
            case ActivationKind.Clipped:
                var clip = new ClipConsumer<T, TConsumer>(consumer, T.CreateChecked(Lo), T.CreateChecked(Hi));
                Inner!.Accept<T, ClipConsumer<T, TConsumer>>(ref clip);
                break;
            default: throw new InvalidOperationException($"activation kind {Kind} has no struct");
        }
    }

    /// <summary>
    /// The activation prox_{α·f} for a step α &gt; 0, where it has a closed form: indicator penalties (ReLU, hard-tanh)
    /// are unchanged, soft-threshold λ becomes αλ, leaky slope a becomes 1/(1 + α(1/a − 1)), identity stays.
    /// Tanh, sigmoid and softplus have none; asking for them is an error naming the alternatives.
    /// </summary>
    public Activation Scaled(double alpha)
    {
        if (!(alpha > 0) || double.IsInfinity(alpha)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "the prox step α must be finite and > 0");
        return Kind switch
        {
            ActivationKind.ReLU or ActivationKind.HardTanh or ActivationKind.Identity => this,
            ActivationKind.Clipped => Inner!.Scaled(alpha).Clip(Lo, Hi),
            ActivationKind.SoftThreshold => SoftThreshold(alpha * Parameter),
            ActivationKind.LeakyReLU => LeakyReLU(1 / (1 + alpha * (1 / Parameter - 1))),
            _ when alpha == 1 => this,
            _ => throw new NotSupportedException(
                $"prox of α·f has no closed form for {this}; splitting solvers with α ≠ 1 need relu, leaky-relu, soft-threshold, hard-tanh or identity"),
        };
    }

    /// <summary>Wraps the inner activation's struct in <see cref="Clipped{T,TInner}"/> before handing it on.</summary>
    private struct ClipConsumer<T, TConsumer>(TConsumer consumer, T lo, T hi) : IActivationConsumer<T>
        where T : unmanaged, IFloatingPointIeee754<T> where TConsumer : IActivationConsumer<T>
    {
        private TConsumer _consumer = consumer;
        public void Consume<TAct>(TAct activation) where TAct : struct, IProxActivation<T>
            => _consumer.Consume(new Clipped<T, TAct>(activation, lo, hi));
    }

    public override string ToString() => Kind switch
    {
        ActivationKind.LeakyReLU => $"leaky-relu:{Parameter.ToString(System.Globalization.CultureInfo.InvariantCulture)}",
        ActivationKind.SoftThreshold => $"soft-threshold:{Parameter.ToString(System.Globalization.CultureInfo.InvariantCulture)}",
        ActivationKind.HardTanh => "hard-tanh",
        ActivationKind.Clipped => $"{Inner}[{Lo.ToString(System.Globalization.CultureInfo.InvariantCulture)},{Hi.ToString(System.Globalization.CultureInfo.InvariantCulture)}]",
        _ => Kind.ToString().ToLowerInvariant(),
    };
}
