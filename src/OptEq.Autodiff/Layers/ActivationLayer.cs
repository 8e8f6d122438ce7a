using OptEq.Kernels.Activations;

namespace OptEq.Autodiff.Layers;

/// <summary>y = σ(x) elementwise: the activation between the linear layers of an explicit network.</summary>
public sealed class ActivationLayer<T>(Activation activation) : ILayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public Activation Activation { get; } = activation ?? throw new ArgumentNullException(nameof(activation));

    public Variable<T> Forward(Variable<T> x) => Ops.Activate(x, Activation);

    public IEnumerable<Parameter<T>> Parameters() => [];
}
