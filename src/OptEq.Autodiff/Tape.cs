namespace OptEq.Autodiff;

/// <summary>
/// Reverse-mode autodiff over device tensors, micrograd style. Ops compute their value and, when any input needs a
/// gradient, push a backward closure that adds (+=) into the inputs' gradients. <see cref="Backward(Variable{T})"/> runs the
/// closures in reverse order (a valid reverse topological order, since ops are recorded as they run).
/// The tape owns every value and gradient it created (rented from the device pool) and gives them back on Dispose,
/// so memory does not grow from step to step. In no-grad mode it records nothing.
/// </summary>
/// <remarks>
/// A tape made by <see cref="ForReplay"/> also keeps each op's forward computation, so <see cref="Replay"/> runs the same
/// step again — forward and backward, on the same buffers — without building a graph: a training loop captures one step
/// and replays it for every batch of the same shape (copying the batch into the captured input first), allocating nothing.
/// Tensors that ops rent while they compute are handed back in the captured order on replay.
/// </remarks>
public sealed class Tape<T> : IDisposable where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly List<Action> _backward = new();
    private readonly List<Action> _forward = new();          // replayable tapes: every op's forward computation, in order
    private readonly List<Tensor<T>> _owned = new();
    private readonly List<Tensor<T>> _gradients = new();     // tape-owned gradient buffers, zeroed before a replay
    private readonly List<Tensor<T>> _computeRents = new();  // replayable tapes: tensors rented while an op computed
    private readonly List<IDisposable> _resources = new();
    private int _computing;  // > 0 while a forward computation or a backward rule runs
    private int _replayCursor = -1; // ≥ 0 during a replay: the next captured rent to hand back

    public Tape(Device device, bool recording = true)
    {
        Device = device;
        IsRecording = recording;
    }

    /// <summary>A tape that records nothing: inference, and the iterations of a forward solve.</summary>
    public static Tape<T> NoGrad(Device device) => new(device, recording: false);

    /// <summary>A recording tape that can <see cref="Replay"/> what it recorded.</summary>
    public static Tape<T> ForReplay(Device device) => new(device) { IsReplayable = true };

    /// <summary>
    /// A replayable tape for inference: parameters enter as constants, so nothing needs a gradient and
    /// <see cref="ReplayForward"/> reruns the captured forward pass alone (an evaluation loop allocates nothing per batch).
    /// </summary>
    public static Tape<T> ForInferenceReplay(Device device) => new(device) { IsReplayable = true, ParametersAsConstants = true };

    public bool IsReplayable { get; private init; }

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

    /// <summary>
    /// Runs an op's forward computation now and, on a replayable tape, keeps it for <see cref="Replay"/>. It must compute
    /// into tensors made before it (the op's value), or rented inside it, and allocate nothing when run again.
    /// </summary>
    internal void Compute(Action forward)
    {
        _computing++;
        try { forward(); }
        finally { _computing--; }
        if (IsReplayable && IsRecording) _forward.Add(forward);
    }

    /// <summary>A pooled, uninitialised tensor owned by this tape (during a replay: the one captured at this point).</summary>
    internal Tensor<T> Rent(params ReadOnlySpan<int> shape)
    {
        if (_replayCursor >= 0)
        {
            if (_replayCursor >= _computeRents.Count || !_computeRents[_replayCursor].Shape.AsSpan().SequenceEqual(shape))
                throw new InvalidOperationException("replay: the ops did not rent the tensors they rented when the step was captured (the step must not change between replays)");
            return _computeRents[_replayCursor++];
        }
        var t = Device.Pool.Rent<T>(shape);
        _owned.Add(t);
        if (IsReplayable && _computing > 0) _computeRents.Add(t);
        return t;
    }

    /// <summary>A pooled, zeroed tensor owned by this tape.</summary>
    internal Tensor<T> Zeros(params ReadOnlySpan<int> shape)
    {
        var t = Rent(shape);
        Device.Fill(t, T.Zero);
        return t;
    }

    /// <summary>A zeroed gradient buffer owned by this tape (kept across replays, and zeroed again before each).</summary>
    internal Tensor<T> NewGradient(int[] shape)
    {
        var t = Device.Pool.Rent<T>(shape);
        _owned.Add(t);
        _gradients.Add(t);
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
        _computing++;
        try
        {
            for (int i = _backward.Count - 1; i >= 0; i--) _backward[i]();
        }
        finally { _computing--; }
    }

    /// <summary>
    /// Runs the recorded step again on a tape made by <see cref="ForReplay"/>: every op's forward computation in order
    /// (reading the current contents of constants and parameters), then backward from <paramref name="output"/> with
    /// seed 1. Gradients of the tape's own variables start from zero; parameter gradients accumulate as in
    /// <see cref="Backward(Variable{T})"/> (zero them first, e.g. with the optimizer). Allocates nothing.
    /// </summary>
    public void Replay(Variable<T> output)
    {
        if (!IsReplayable) throw new InvalidOperationException("replay needs a tape made by Tape.ForReplay");
        if (!ReferenceEquals(output.Tape, this)) throw new ArgumentException("replay: the output belongs to another tape");
        foreach (var g in _gradients) Device.Fill(g, T.Zero);
        Rerun(output);
    }

    /// <summary>
    /// As <see cref="Replay(Variable{T})"/>, but the backward starts from the seed that <paramref name="seedAfterForward"/>
    /// returns once the forward has run (a vector–Jacobian product whose seed depends on the forward's values: DDPNOpt's
    /// value gradient at an equilibrium model's head). The callback must not rent from this tape. Allocates nothing.
    /// </summary>
    public void ReplaySeeded(Variable<T> output, Func<Tensor<T>> seedAfterForward)
    {
        ArgumentNullException.ThrowIfNull(seedAfterForward);
        if (!IsReplayable) throw new InvalidOperationException("replay needs a tape made by Tape.ForReplay");
        if (!ReferenceEquals(output.Tape, this)) throw new ArgumentException("replay: the output belongs to another tape");
        foreach (var g in _gradients) Device.Fill(g, T.Zero);
        Rerun(output, seedAfterForward);
    }

    /// <summary>
    /// Runs every captured forward computation again, and no backward: an inference pass captured on a tape made by
    /// <see cref="ForInferenceReplay"/> (or <see cref="ForReplay"/>), over the current contents of its inputs. Allocates nothing.
    /// </summary>
    public void ReplayForward()
    {
        if (!IsReplayable) throw new InvalidOperationException("replay needs a tape made by Tape.ForReplay or Tape.ForInferenceReplay");
        Rerun(output: null);
    }

    /// <summary>The captured forward computations, then backward from <paramref name="output"/> when given.</summary>
    private void Rerun(Variable<T>? output, Func<Tensor<T>>? seed = null)
    {
        _replayCursor = 0;
        try
        {
            _computing++;
            try
            {
                foreach (var forward in _forward) forward();
            }
            finally { _computing--; }
            if (output is not null && seed is not null) Backward(output, seed());
            else if (output is not null) Backward(output);
            if (_replayCursor != _computeRents.Count)
                throw new InvalidOperationException("replay: the ops rented fewer tensors than when the step was captured (the step must not change between replays)");
        }
        finally { _replayCursor = -1; }
    }

    public void Dispose()
    {
        foreach (var r in _resources) r.Dispose();
        _resources.Clear();
        foreach (var t in _owned) Device.Pool.Return(t);
        _owned.Clear();
        _backward.Clear();
        _forward.Clear();
        _gradients.Clear();
        _computeRents.Clear();
    }
}
