namespace OptEq.Autodiff.Optimizers;

// Adam and AdamW's elementwise updates, for device.Map. Public structs with only T fields, so the ILGPU backend can compile them
// into kernels. g̃ = g + λ·p is the gradient with L2 weight decay; λ = 0 leaves g untouched (0·p would turn an
// infinite p into NaN). The arithmetic follows PyTorch's order of operations, so results match its formulas to rounding.

/// <summary>β·avg + (1 − β)·g̃ from a = avg, b = g, c = p, with g̃ = g + λ·p: Adam's first moment m.</summary>
public readonly struct AdamFirstMoment<T>(T beta, T oneMinusBeta, T weightDecay) : IScalarMap<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Beta { get; } = beta;
    public T OneMinusBeta { get; } = oneMinusBeta;
    public T WeightDecay { get; } = weightDecay;
    public T Apply(T m, T g, T p, T d) => Beta * m + OneMinusBeta * (WeightDecay == T.Zero ? g : g + WeightDecay * p);
}

/// <summary>β·avg + (1 − β)·g̃·g̃ from a = avg, b = g, c = p, with g̃ = g + λ·p: Adam's second moment v.</summary>
public readonly struct AdamSecondMoment<T>(T beta, T oneMinusBeta, T weightDecay) : IScalarMap<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Beta { get; } = beta;
    public T OneMinusBeta { get; } = oneMinusBeta;
    public T WeightDecay { get; } = weightDecay;
    public T Apply(T v, T g, T p, T d)
    {
        T decayed = WeightDecay == T.Zero ? g : g + WeightDecay * p;
        return Beta * v + OneMinusBeta * decayed * decayed;
    }
}

/// <summary>
/// shrink·p − stepSize·m / (√v / √(1 − β2ᵗ) + ε) from a = p, b = m, c = v, where stepSize = lr / (1 − β1ᵗ).
/// shrink is 1 for Adam and 1 − lr·λ for AdamW (decoupled weight decay, applied before the Adam step as in PyTorch).
/// </summary>
public readonly struct AdamParameterStep<T>(T shrink, T stepSize, T sqrtBiasCorrection2, T epsilon) : IScalarMap<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Shrink { get; } = shrink;
    public T StepSize { get; } = stepSize;
    public T SqrtBiasCorrection2 { get; } = sqrtBiasCorrection2;
    public T Epsilon { get; } = epsilon;
    public T Apply(T p, T m, T v, T d) => Shrink * p - StepSize * m / (T.Sqrt(v) / SqrtBiasCorrection2 + Epsilon);
}

/// <summary>
/// The whole Adam step of one element in one pass, for <see cref="ElementwiseExtensions.UpdateInPlace{T,TOp}"/> with (a, b, c, d) =
/// (m, v, p, g): the three updates above in order, so it computes exactly what they compute as three maps.
/// </summary>
public readonly struct AdamUpdate<T>(AdamFirstMoment<T> first, AdamSecondMoment<T> second, AdamParameterStep<T> step) : IScalarUpdate<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public AdamFirstMoment<T> First { get; } = first;
    public AdamSecondMoment<T> Second { get; } = second;
    public AdamParameterStep<T> Step { get; } = step;

    public Triple<T> Apply(T m, T v, T p, T g)
    {
        T mNext = First.Apply(m, g, p, p);
        T vNext = Second.Apply(v, g, p, p);
        return new Triple<T>(mNext, vNext, Step.Apply(p, mNext, vNext, p));
    }
}
