namespace OptEq.Solvers.Operators;

/// <summary>
/// A 2-D convolution without bias as a linear operator (NCHW rows, docs/kernels.md): A·v = conv(v, weight), Aᵀ·v the
/// transposed convolution (the input gradient of the convolution). The weight tensor is read at every call, so a layer
/// may rewrite it between solves (a reparameterised weight) without rebuilding the operator.
/// </summary>
public sealed class Conv2dOperator<T> : IParameterisedOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public Conv2dOperator(Conv2dGeometry geometry, Tensor<T> weight)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Rank != 2 || weight.Shape[0] != geometry.OutChannels || weight.Shape[1] != geometry.WeightColumns)
            throw new ShapeException($"convolution operator: the weight must be [{geometry.OutChannels}, {geometry.WeightColumns}], got [{string.Join(", ", weight.Shape)}]");
        Geometry = geometry;
        Weight = weight;
        Weights = [weight];
    }

    public Conv2dGeometry Geometry { get; }
    /// <summary>[OutChannels, InChannels·KernelHeight·KernelWidth].</summary>
    public Tensor<T> Weight { get; }
    public IReadOnlyList<Tensor<T>> Weights { get; }
    public Device Device => Weight.Device;
    public int InputSize => Geometry.InputSize;
    public int OutputSize => Geometry.OutputSize;

    public void Apply(Tensor<T> v, Tensor<T> result, T beta) => Device.Conv2d(Geometry, v, Weight, null, result, beta);

    public void ApplyTranspose(Tensor<T> v, Tensor<T> result, T beta) => Device.Conv2dBackwardInput(Geometry, v, Weight, result, beta);

    /// <summary>gradients[0] += the convolution's weight gradient for (input, gradOutput).</summary>
    public void AccumulateWeightGradients(Tensor<T> input, Tensor<T> gradOutput, IReadOnlyList<Tensor<T>> gradients)
        => Device.Conv2dBackwardWeight(Geometry, input, gradOutput, gradients[0], T.One);
}
