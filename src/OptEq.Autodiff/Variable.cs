namespace OptEq.Autodiff;

/// <summary>
/// A node of the tape: a value, and (when it requires a gradient) the gradient that backward adds into. A variable
/// that wraps a <see cref="Parameter{T}"/> shares the parameter's tensors, so its gradient lands in Parameter.Grad.
/// </summary>
public sealed class Variable<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private Tensor<T>? _grad;

    internal Variable(Tape<T> tape, Tensor<T> value, bool requiresGrad, Parameter<T>? parameter = null)
    {
        Tape = tape;
        Value = value;
        RequiresGrad = requiresGrad;
        Parameter = parameter;
        if (parameter is not null && requiresGrad) _grad = parameter.Grad;
    }

    public Tape<T> Tape { get; }
    public Tensor<T> Value { get; }
    public bool RequiresGrad { get; }
    public Parameter<T>? Parameter { get; }
    public int[] Shape => Value.Shape;
    public Device Device => Value.Device;

    /// <summary>The gradient, or null before backward reached this variable (or when it needs none).</summary>
    public Tensor<T>? Grad => _grad;

    /// <summary>The gradient buffer, allocated (zeroed) on first use. Backward rules add into it.</summary>
    internal Tensor<T> GradBuffer => _grad ??= Tape.NewGradient(Value.Shape);

    public override string ToString() => $"Variable [{string.Join(", ", Shape)}]{(RequiresGrad ? " (grad)" : "")}";
}
