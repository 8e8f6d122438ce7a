namespace OptEq.Autodiff.Layers;

/// <summary>Average pooling of NCHW rows (no parameters): [batch, C·H·W] → [batch, C·H′·W′].</summary>
public sealed class AvgPool2dLayer<T>(Pool2dGeometry geometry) : ILayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public Pool2dGeometry Geometry { get; } = geometry;
    public Variable<T> Forward(Variable<T> x) => Ops.AvgPool2d(x, Geometry);
    public IEnumerable<Parameter<T>> Parameters() => [];
}
