namespace OptEq.Autodiff.Layers;

/// <summary>y = x·Wᵀ + b, W [out, in].</summary>
public sealed class Linear<T> : ILayer<T>, IDisposable where T : unmanaged, IFloatingPointIeee754<T>
{
    public Linear(Device device, string name, int input, int output, Random rng, bool bias = true)
    {
        double bound = 1 / Math.Sqrt(input);
        Weight = new Parameter<T>($"{name}.weight", Init.Uniform<T>(device, rng, bound, output, input));
        Bias = bias ? new Parameter<T>($"{name}.bias", Init.Uniform<T>(device, rng, bound, output)) { NoWeightDecay = true } : null;
    }

    public Parameter<T> Weight { get; }
    public Parameter<T>? Bias { get; }

    public Variable<T> Forward(Variable<T> x)
        => Ops.Affine(x, x.Tape.Param(Weight), Bias is null ? null : x.Tape.Param(Bias));

    public IEnumerable<Parameter<T>> Parameters() => Bias is null ? [Weight] : [Weight, Bias];

    public void Dispose() { Weight.Dispose(); Bias?.Dispose(); }
}
