namespace OptEq.Autodiff;

/// <summary>
/// A trainable tensor and its gradient (same shape, same device). Backward passes add (+=) into <see cref="Grad"/>;
/// optimizers read it and update <see cref="Value"/> in place, then call <see cref="AfterStep"/> (e.g. the implicit
/// deep learning layer's ℓ1-ball projection of A). Names are unique within a model and key the checkpoint tensors.
/// </summary>
public sealed class Parameter<T> : IDisposable where T : unmanaged, IFloatingPointIeee754<T>
{
    public Parameter(string name, Tensor<T> value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (!value.IsContiguous) throw new ShapeException($"parameter '{name}' must be a contiguous tensor");
        Name = name;
        Value = value;
        Grad = value.Device.Allocate<T>(value.Shape);
    }

    public string Name { get; }
    public Tensor<T> Value { get; }
    public Tensor<T> Grad { get; }
    public Device Device => Value.Device;
    public int[] Shape => Value.Shape;
    public long Length => Value.Length;

    /// <summary>Runs after every optimizer step (projections, constraints). Null when there is nothing to do.</summary>
    public Action<Parameter<T>>? AfterStep { get; set; }

    /// <summary>Excluded from weight decay (biases, normalisation scales).</summary>
    public bool NoWeightDecay { get; init; }

    public void ZeroGrad() => Device.Fill(Grad, T.Zero);

    public override string ToString() => $"{Name} [{string.Join(", ", Shape)}]";

    public void Dispose()
    {
        Value.Dispose();
        Grad.Dispose();
    }
}

/// <summary>Something with parameters: a layer or a model. Parameter order is stable (it is the checkpoint order).</summary>
public interface IModule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    IEnumerable<Parameter<T>> Parameters();
}
