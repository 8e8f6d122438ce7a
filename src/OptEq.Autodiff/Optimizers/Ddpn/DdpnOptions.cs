namespace OptEq.Autodiff.Optimizers.Ddpn;

/// <summary>
/// DDPNOpt's settings (docs/math.md §6). The base optimizer gives the open-loop step k and the preconditioner M of Q_uu:
/// sgd the identity (M⁻¹ = lr·I), rmsprop and adam the diagonal √v (M⁻¹ = lr / (√v̂ + ε)).
/// </summary>
public sealed record DdpnOptions
{
    private readonly OptimizerKind _base = OptimizerKind.Adam;
    private readonly double _epsilon = 1e-3;

    /// <summary>The base optimizer: sgd, rmsprop or adam (not adamw: its decoupled decay is no Q_uu).</summary>
    public OptimizerKind Base
    {
        get => _base;
        init => _base = value is OptimizerKind.Sgd or OptimizerKind.Rmsprop or OptimizerKind.Adam
            ? value
            : throw new ArgumentOutOfRangeException(nameof(Base), value, $"the ddpnopt base optimizer must be sgd, rmsprop or adam, not {OptimizerFactory.Name(value)}");
    }

    /// <summary>Tikhonov regularisation ε ≥ 0 of the value Hessian: V_xx + ε·I (docs/math.md §6.3).</summary>
    public double Epsilon { get => _epsilon; init => _epsilon = OptionChecks.NonNegative(value, nameof(Epsilon)); }

    /// <summary>
    /// The feedback K·δx (docs/math.md §6.5). Off forces Q_ux = 0: the step is then exactly the base optimizer's (same
    /// gradients, same kernels, same order).
    /// </summary>
    public bool Feedback { get; init; } = true;

    /// <summary>"adam", "sgd" or "rmsprop" as the CLI names them.</summary>
    public static OptimizerKind ParseBase(string name)
    {
        var kind = OptimizerFactory.Parse(name);
        return new DdpnOptions { Base = kind }.Base;
    }
}
