namespace OptEq.Autodiff.Optimizers.Ddpn;

// DDPNOpt's elementwise maps (public structs with only T fields, so ILGPU can compile them). docs/math.md §6.

/// <summary>a·b from a, b: the backprop vector through an activation, v ⊙ σ′ (and the rank-one factor y ⊙ σ′).</summary>
public readonly struct DdpnMultiply<T> : IScalarMap<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Apply(T a, T b, T c, T d) => a * b;
}

/// <summary>a − b·c from a = p, b = M⁻¹, c = G: a preconditioned step, p ← p − M⁻¹ ⊙ G (docs/math.md §6.5).</summary>
public readonly struct DdpnPreconditionedStep<T> : IScalarMap<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Apply(T p, T minv, T g, T d) => p - minv * g;
}

/// <summary>−b·c from b = M⁻¹, c = Q_u: the step k̃ = −M⁻¹·Q_u that enters V_x (docs/math.md §6.4).</summary>
public readonly struct DdpnNegativeProduct<T> : IScalarMap<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Apply(T a, T minv, T g, T d) => -(minv * g);
}

/// <summary>lr / (√v / √(1 − β2ᵗ) + ε) from a = v: Adam's diagonal M⁻¹ (the denominator of its step, docs/math.md §6.2).</summary>
public readonly struct DdpnAdamInverse<T>(T learningRate, T sqrtBiasCorrection2, T epsilon) : IScalarMap<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T LearningRate { get; } = learningRate;
    public T SqrtBiasCorrection2 { get; } = sqrtBiasCorrection2;
    public T Epsilon { get; } = epsilon;
    public T Apply(T v, T b, T c, T d) => LearningRate / (T.Sqrt(v) / SqrtBiasCorrection2 + Epsilon);
}

/// <summary>lr / (√v + ε) from a = v: RMSprop's diagonal M⁻¹.</summary>
public readonly struct DdpnRmspropInverse<T>(T learningRate, T epsilon) : IScalarMap<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T LearningRate { get; } = learningRate;
    public T Epsilon { get; } = epsilon;
    public T Apply(T v, T b, T c, T d) => LearningRate / (T.Sqrt(v) + Epsilon);
}
