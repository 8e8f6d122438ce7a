namespace OptEq.Autodiff.Optimizers.Ddpn;

/// <summary>The preconditioner M of Q_uu (docs/math.md §6.2).</summary>
public enum DdpnPreconditioner
{
    /// <summary>M⁻¹ = lr·I: the sgd base.</summary>
    Identity,
    /// <summary>M⁻¹ = lr / (√v̂ + ε) elementwise: the rmsprop or adam base's second moment.</summary>
    Diagonal,
    /// <summary>M⁻¹ = lr·(A + γI)⁻¹ ⊗ (G + γI)⁻¹ per linear layer (K-FAC), over an sgd base.</summary>
    Kfac,
}

/// <summary>
/// DDPNOpt's settings (docs/math.md §6). The base optimizer gives the open-loop step k and the preconditioner M of Q_uu:
/// sgd the identity (M⁻¹ = lr·I), rmsprop and adam the diagonal √v (M⁻¹ = lr / (√v̂ + ε)); or, with
/// <see cref="Preconditioner"/> kfac over sgd, the Kronecker factors of each linear layer.
/// </summary>
public sealed record DdpnOptions
{
    private readonly OptimizerKind _base = OptimizerKind.Adam;
    private readonly double _epsilon = 1e-3;
    private readonly double _kfacDamping = 0.1;
    private readonly double _kfacDecay = 0.95;
    private readonly int _kfacRefresh = 10;
    private readonly double _bound = 0.3;

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

    /// <summary>
    /// Bound ρ ≥ 0 on DDPNOpt's second-order terms, relative to the first-order ones (docs/math.md §6.4–§6.5): each
    /// element of the feedback K·δx to at most ρ·|k| (k: the element's open-loop step), and each sample's correction of
    /// the backprop vector in V_x = Wᵀ(g + c) to ‖c‖ ≤ ρ·‖g‖. 0 leaves both unbounded (the plain method). Without it, on
    /// MNIST at lr 3·10⁻³ over Adam, a diagonal M⁻¹ of up to lr/ε on elements with tiny v̂ made the feedback hundreds of
    /// times the step, and the V_x correction grew to dominate the lower layers' gradients (docs/ddpnopt).
    /// </summary>
    public double Bound { get => _bound; init => _bound = OptionChecks.NonNegative(value, nameof(Bound)); }

    /// <summary>The preconditioner; null takes the base's (identity for sgd, diagonal for rmsprop and adam).</summary>
    public DdpnPreconditioner? Preconditioner { get; init; }

    /// <summary>The preconditioner in effect: <see cref="Preconditioner"/>, or the base optimizer's.</summary>
    public DdpnPreconditioner EffectivePreconditioner => Preconditioner ?? (Base == OptimizerKind.Sgd ? DdpnPreconditioner.Identity : DdpnPreconditioner.Diagonal);

    /// <summary>K-FAC: the Tikhonov damping γ &gt; 0 added to both Kronecker factors before inversion (docs/math.md §6.2).</summary>
    public double KfacDamping
    {
        get => _kfacDamping;
        init => _kfacDamping = value > 0 && double.IsFinite(value) ? value : throw new ArgumentOutOfRangeException(nameof(KfacDamping), value, "the K-FAC damping must be a finite number > 0");
    }

    /// <summary>K-FAC: the running-average decay β ∈ [0, 1) of the factors: A ← β·A + (1 − β)·A_batch.</summary>
    public double KfacDecay
    {
        get => _kfacDecay;
        init => _kfacDecay = value is >= 0 and < 1 ? value : throw new ArgumentOutOfRangeException(nameof(KfacDecay), value, "the K-FAC decay must lie in [0, 1)");
    }

    /// <summary>K-FAC: the factors are re-estimated and re-inverted every this many steps (≥ 1), not in between.</summary>
    public int KfacRefresh
    {
        get => _kfacRefresh;
        init => _kfacRefresh = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(KfacRefresh), value, "the K-FAC refresh interval must be ≥ 1 step");
    }

    /// <summary>Throws when the preconditioner does not fit the base: identity and kfac need sgd, diagonal rmsprop or adam.</summary>
    public void Validate()
    {
        var p = EffectivePreconditioner;
        bool fits = p == DdpnPreconditioner.Diagonal ? Base is OptimizerKind.Rmsprop or OptimizerKind.Adam : Base == OptimizerKind.Sgd;
        if (!fits)
            throw new ArgumentException($"ddpnopt: the {PreconditionerName(p)} preconditioner needs the base optimizer {(p == DdpnPreconditioner.Diagonal ? "rmsprop or adam" : "sgd")}, not {OptimizerFactory.Name(Base)} (set --ddpn-base)");
    }

    /// <summary>"identity", "diagonal" or "kfac".</summary>
    public static DdpnPreconditioner ParsePreconditioner(string name) => name.Trim().ToLowerInvariant() switch
    {
        "identity" => DdpnPreconditioner.Identity,
        "diagonal" => DdpnPreconditioner.Diagonal,
        "kfac" => DdpnPreconditioner.Kfac,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "the ddpnopt preconditioner must be identity, diagonal or kfac"),
    };

    /// <summary>The CLI name of a preconditioner.</summary>
    public static string PreconditionerName(DdpnPreconditioner p) => p switch
    {
        DdpnPreconditioner.Identity => "identity",
        DdpnPreconditioner.Diagonal => "diagonal",
        _ => "kfac",
    };

    /// <summary>The options as one line, e.g. "base adam, precond diagonal, epsilon 0.001, feedback true" (kept in checkpoints).</summary>
    public string Describe()
    {
        var p = EffectivePreconditioner;
        var text = string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"base {OptimizerFactory.Name(Base)}, precond {PreconditionerName(p)}, epsilon {Epsilon}, feedback {(Feedback ? "true" : "false")}, bound {Bound}");
        return p != DdpnPreconditioner.Kfac ? text
            : text + string.Create(System.Globalization.CultureInfo.InvariantCulture, $", kfac-damping {KfacDamping}, kfac-decay {KfacDecay}, kfac-refresh {KfacRefresh}");
    }

    /// <summary>"adam", "sgd" or "rmsprop" as the CLI names them.</summary>
    public static OptimizerKind ParseBase(string name)
    {
        var kind = OptimizerFactory.Parse(name);
        return new DdpnOptions { Base = kind }.Base;
    }
}
