namespace OptEq.Autodiff.Layers;

/// <summary>
/// y = conv(x, W) + b on NCHW rows (an explicit convolution, the cnn model's layer): x [batch, g.InputSize] →
/// [batch, g.OutputSize], W [out channels, in channels·kh·kw], b [out channels]. Initialised as PyTorch's Conv2d
/// (uniform in ±1/√fan-in, fan-in = in channels·kh·kw).
/// </summary>
public sealed class Conv2dLayer<T> : ILayer<T>, IDisposable where T : unmanaged, IFloatingPointIeee754<T>
{
    public Conv2dLayer(Device device, string name, Conv2dGeometry geometry, Random rng, bool bias = true)
    {
        Geometry = geometry;
        double bound = 1 / Math.Sqrt(geometry.WeightColumns);
        Weight = new Parameter<T>($"{name}.weight", Init.Uniform<T>(device, rng, bound, geometry.OutChannels, geometry.WeightColumns));
        Bias = bias ? new Parameter<T>($"{name}.bias", Init.Uniform<T>(device, rng, bound, geometry.OutChannels)) { NoWeightDecay = true } : null;
    }

    public Conv2dGeometry Geometry { get; }
    public Parameter<T> Weight { get; }
    public Parameter<T>? Bias { get; }

    public Variable<T> Forward(Variable<T> x)
        => Ops.Conv2d(x, x.Tape.Param(Weight), Bias is null ? null : x.Tape.Param(Bias), Geometry);

    public IEnumerable<Parameter<T>> Parameters() => Bias is null ? [Weight] : [Weight, Bias];

    public void Dispose() { Weight.Dispose(); Bias?.Dispose(); }
}
