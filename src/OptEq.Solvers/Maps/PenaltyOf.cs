using OptEq.Kernels.Activations;

namespace OptEq.Solvers.Maps;

/// <summary>f(a) of an activation, as an elementwise map (the objective evaluates f at any iterate, not only at σ(v)).</summary>
public readonly struct PenaltyOf<T, TAct>(TAct activation) : IScalarMap<T> where T : unmanaged, IFloatingPointIeee754<T> where TAct : struct, IProxActivation<T>
{
    public TAct Activation { get; } = activation;
    public T Apply(T a, T b, T c, T d) => Activation.Penalty(a);
}

/// <summary>Runs device.Map with the penalty of an activation descriptor.</summary>
internal readonly struct PenaltyLaunch<T>(Device device, Tensor<T> input, Tensor<T> output) : IActivationConsumer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public void Consume<TAct>(TAct activation) where TAct : struct, IProxActivation<T>
        => device.Map(new PenaltyOf<T, TAct>(activation), output, input);

    public static void Run(Activation activation, Device device, Tensor<T> input, Tensor<T> output)
    {
        var launch = new PenaltyLaunch<T>(device, input, output);
        activation.Accept<T, PenaltyLaunch<T>>(ref launch);
    }
}

/// <summary>G from its parts: a + ½b − ½c − d (Σf, ||z||², zᵀMz, ⟨c, z⟩).</summary>
public readonly struct ObjectiveParts<T> : IScalarMap<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Apply(T sumF, T normSquared, T quadratic, T linear)
    {
        T half = T.One / (T.One + T.One);
        return sumF + half * normSquared - half * quadratic - linear;
    }
}
