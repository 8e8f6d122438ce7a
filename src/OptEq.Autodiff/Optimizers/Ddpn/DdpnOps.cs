namespace OptEq.Autodiff.Optimizers.Ddpn;

// DDPNOpt's elementwise maps (public structs with only T fields, so ILGPU can compile them). docs/math.md §6.

/// <summary>a·b from a, b: the backprop vector through an activation, v ⊙ σ′ (and the rank-one factor y ⊙ σ′).</summary>
public readonly struct DdpnMultiply<T> : IScalarMap<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Apply(T a, T b, T c, T d) => a * b;
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

/// <summary>
/// p − clamp(b·c, ±ρ·|p − d|) from p, b = M⁻¹, c = Σₙ βₙ ⊗ x̄ₙ, d = the parameter before this step: the feedback K·δx
/// applied to a parameter that already holds u + k, each element bounded by ρ times its open-loop step |k| (ρ = 0: no
/// bound). docs/math.md §6.5.
/// </summary>
public readonly struct DdpnClippedFeedback<T>(T rho) : IScalarMap<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Rho { get; } = rho;
    public T Apply(T p, T minv, T g, T old) => p - DdpnBound.Clamp(minv * g, Rho, p - old);
}

/// <summary>p − clamp(s·b, ±ρ·|p − c|) from p, b = the Kronecker-preconditioned feedback, c = the parameter before this step (K-FAC, s = lr).</summary>
public readonly struct DdpnClippedScaledFeedback<T>(T scale, T rho) : IScalarMap<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Scale { get; } = scale;
    public T Rho { get; } = rho;
    public T Apply(T p, T natural, T old, T d) => p - DdpnBound.Clamp(Scale * natural, Rho, p - old);
}

/// <summary>The elementwise bound of the feedback (written out so that ILGPU compiles it the same on every backend).</summary>
public static class DdpnBound
{
    public static T Clamp<T>(T delta, T rho, T step) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!(rho > T.Zero)) return delta;
        T bound = rho * T.Abs(step);
        return delta > bound ? bound : delta < -bound ? -bound : delta;
    }
}
