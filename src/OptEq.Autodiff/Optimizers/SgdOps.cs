namespace OptEq.Autodiff.Optimizers;

// SGD's elementwise updates, for device.Map. Public structs with only T fields, so the ILGPU backend can compile them
// into kernels. g̃ = g + λ·p is the gradient with L2 weight decay; λ = 0 leaves g untouched (0·p would turn an
// infinite p into NaN). The arithmetic follows PyTorch's order of operations, so results match its formulas to rounding.

/// <summary>g + λ·p from a = g, b = p: SGD's first momentum buffer (PyTorch clones the gradient).</summary>
public readonly struct DecayedGradient<T>(T weightDecay) : IScalarMap<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T WeightDecay { get; } = weightDecay;
    public T Apply(T g, T p, T c, T d) => WeightDecay == T.Zero ? g : g + WeightDecay * p;
}

/// <summary>p − lr·(g + λ·p) from a = p, b = g: plain SGD.</summary>
public readonly struct SgdStep<T>(T learningRate, T weightDecay) : IScalarMap<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T LearningRate { get; } = learningRate;
    public T WeightDecay { get; } = weightDecay;
    public T Apply(T p, T g, T c, T d) => p - LearningRate * (WeightDecay == T.Zero ? g : g + WeightDecay * p);
}

/// <summary>μ·buf + (1 − dampening)·(g + λ·p) from a = buf, b = g, c = p: SGD's momentum buffer after the first step.</summary>
public readonly struct SgdMomentumBuffer<T>(T momentum, T gradientScale, T weightDecay) : IScalarMap<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Momentum { get; } = momentum;
    public T GradientScale { get; } = gradientScale;
    public T WeightDecay { get; } = weightDecay;
    public T Apply(T buf, T g, T p, T d) => Momentum * buf + GradientScale * (WeightDecay == T.Zero ? g : g + WeightDecay * p);
}

/// <summary>p − lr·buf from a = p, b = buf: SGD with (heavy-ball) momentum.</summary>
public readonly struct SgdMomentumStep<T>(T learningRate) : IScalarMap<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T LearningRate { get; } = learningRate;
    public T Apply(T p, T buf, T c, T d) => p - LearningRate * buf;
}

/// <summary>p − lr·((g + λ·p) + μ·buf) from a = p, b = g, c = buf: SGD with Nesterov momentum.</summary>
public readonly struct SgdNesterovStep<T>(T learningRate, T momentum, T weightDecay) : IScalarMap<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T LearningRate { get; } = learningRate;
    public T Momentum { get; } = momentum;
    public T WeightDecay { get; } = weightDecay;
    public T Apply(T p, T g, T buf, T d) => p - LearningRate * ((WeightDecay == T.Zero ? g : g + WeightDecay * p) + Momentum * buf);
}
