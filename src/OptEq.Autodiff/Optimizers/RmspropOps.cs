namespace OptEq.Autodiff.Optimizers;

// RMSprop's elementwise updates, for device.Map (public structs with only T fields, so ILGPU can compile them). Same
// order of operations as PyTorch: v ← α·v + (1 − α)·g̃², p ← p − lr·g̃ / (√v + ε), g̃ = g + λ·p.

/// <summary>α·v + (1 − α)·g̃·g̃ from a = v, b = g, c = p.</summary>
public readonly struct RmspropSecondMoment<T>(T alpha, T oneMinusAlpha, T weightDecay) : IScalarMap<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Alpha { get; } = alpha;
    public T OneMinusAlpha { get; } = oneMinusAlpha;
    public T WeightDecay { get; } = weightDecay;
    public T Apply(T v, T g, T p, T d)
    {
        T decayed = WeightDecay == T.Zero ? g : g + WeightDecay * p;
        return Alpha * v + OneMinusAlpha * decayed * decayed;
    }
}

/// <summary>p − lr·g̃ / (√v + ε) from a = p, b = g, c = v.</summary>
public readonly struct RmspropStep<T>(T learningRate, T epsilon, T weightDecay) : IScalarMap<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T LearningRate { get; } = learningRate;
    public T Epsilon { get; } = epsilon;
    public T WeightDecay { get; } = weightDecay;
    public T Apply(T p, T g, T v, T d) => p - LearningRate * (WeightDecay == T.Zero ? g : g + WeightDecay * p) / (T.Sqrt(v) + Epsilon);
}
