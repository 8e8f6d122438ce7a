namespace OptEq.Autodiff;

/// <summary>
/// Reverse-mode autodiff over device tensors, micrograd style. Ops compute their value and, when any input needs a
/// gradient, push a backward closure that adds (+=) into the inputs' gradients. <see cref="Backward"/> runs the
/// closures in reverse order (a valid reverse topological order, since ops are recorded as they run).
/// The tape owns every value and gradient it created (rented from the device pool) and gives them back on Dispose,
/// so memory does not grow from step to step. In no-grad mode it records nothing.
/// </summary>
public sealed class Tape<T> : IDisposable where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly List<Action> _backward = new();
    private readonly List<Tensor<T>> _owned = new();
    private readonly List<IDisposable> _resources = new();

    public Tape(Device device, bool recording = true)
    {
        Device = device;
        IsRecording = recording;
    }

    /// <summary>A tape that records nothing: inference, and the iterations of a forward solve.</summary>
    public static Tape<T> NoGrad(Device device) => new(device, recording: false);

    public Device Device { get; }
    public bool IsRecording { get; }
    /// <summary>When set, parameters enter as constants (their gradients are not wanted, e.g. inside adjoint iterations).</summary>
    public bool ParametersAsConstants { get; init; }

    /// <summary>A parameter as a variable: its gradient accumulates into <see cref="Parameter{T}.Grad"/>.</summary>
    public Variable<T> Param(Parameter<T> parameter)
    {
        if (parameter.Device != Device) throw new ArgumentException($"parameter '{parameter.Name}' lives on {parameter.Device.Id}, the tape on {Device.Id}");
        return new Variable<T>(this, parameter.Value, IsRecording && !ParametersAsConstants, parameter);
    }

    /// <summary>A value that needs no gradient (inputs, labels, fixed matrices). The caller keeps ownership.</summary>
    public Variable<T> Constant(Tensor<T> value) => new(this, value, requiresGrad: false);

    /// <summary>A leaf whose gradient is wanted (e.g. an input for a gradient check). The caller keeps ownership of the value.</summary>
    public Variable<T> Leaf(Tensor<T> value) => new(this, value, requiresGrad: IsRecording);

    /// <summary>A new op result: its value tensor is owned by the tape; it needs a gradient when any input does.</summary>
    internal Variable<T> Result(Tensor<T> value, params ReadOnlySpan<Variable<T>> inputs)
    {
        bool requires = false;
        foreach (var v in inputs) requires |= v.RequiresGrad;
        return new Variable<T>(this, value, IsRecording && requires);
    }

    /// <summary>Records a backward rule, run only when the output needs a gradient.</summary>
    internal void Record(Variable<T> output, Action backward)
    {
        if (output.RequiresGrad) _backward.Add(backward);
    }

    /// <summary>A pooled, uninitialised tensor owned by this tape.</summary>
    internal Tensor<T> Rent(params int[] shape)
    {
        var t = Device.Pool.Rent<T>(shape);
        _owned.Add(t);
        return t;
    }

    /// <summary>A pooled, zeroed tensor owned by this tape.</summary>
    internal Tensor<T> Zeros(params int[] shape)
    {
        var t = Rent(shape);
        Device.Fill(t, T.Zero);
        return t;
    }

    /// <summary>Disposed with the tape (maps and results that implicit layers keep for their backward).</summary>
    internal void Own(IDisposable resource) => _resources.Add(resource);

    /// <summary>Backpropagates from a scalar output (seed 1).</summary>
    public void Backward(Variable<T> output)
    {
        if (output.Value.Length != 1)
            throw new ShapeException($"backward needs a scalar output (one element), got shape [{string.Join(", ", output.Shape)}]; use Backward(output, seed) for others");
        Device.Fill(output.GradBuffer, T.One);
        RunBackward();
    }

    /// <summary>Backpropagates a given seed gradient (same shape as the output): a vector–Jacobian product.</summary>
    public void Backward(Variable<T> output, Tensor<T> seed)
    {
        if (!output.Value.Shape.AsSpan().SequenceEqual(seed.Shape))
            throw new ShapeException($"backward: seed shape [{string.Join(", ", seed.Shape)}] differs from the output's [{string.Join(", ", output.Shape)}]");
        Device.Copy(seed, output.GradBuffer);
        RunBackward();
    }

    private void RunBackward()
    {
        if (!IsRecording) throw new InvalidOperationException("this tape is in no-grad mode and recorded nothing");
        for (int i = _backward.Count - 1; i >= 0; i--) _backward[i]();
    }

    public void Dispose()
    {
        foreach (var r in _resources) r.Dispose();
        _resources.Clear();
        foreach (var t in _owned) Device.Pool.Return(t);
        _owned.Clear();
        _backward.Clear();
    }
}
