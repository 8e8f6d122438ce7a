using OptEq.Autodiff.Optimizers.Schedules;

namespace OptEq.Autodiff.Optimizers;

/// <summary>
/// Updates a fixed list of parameters from their gradients. <see cref="Step()"/> applies one update to every parameter
/// at the current <see cref="LearningRate"/>, counts it, then runs each parameter's <see cref="Parameter{T}.AfterStep"/>.
/// State tensors are allocated once, at construction, on each parameter's device; a step queues a few elementwise
/// kernels per parameter and allocates nothing. A checkpoint saves <see cref="State"/> and <see cref="StepCount"/>;
/// copying them back (<see cref="Restore"/>) makes the following steps identical to an uninterrupted run.
/// </summary>
public abstract class Optimizer<T> : IDisposable where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Parameter<T>[] _parameters;
    private readonly List<(string Name, Tensor<T> Tensor)> _state = [];
    private double _learningRate;
    private int _stepCount;

    protected Optimizer(IEnumerable<Parameter<T>> parameters, double learningRate)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        _parameters = parameters.ToArray();
        if (_parameters.Length == 0) throw new ArgumentException("an optimizer needs at least one parameter", nameof(parameters));
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in _parameters)
        {
            if (p is null) throw new ArgumentException("the parameter list contains null", nameof(parameters));
            // Names key the state tensors, and a parameter listed twice would be updated twice per step.
            if (!names.Add(p.Name)) throw new ArgumentException($"parameter name '{p.Name}' appears more than once", nameof(parameters));
        }
        LearningRate = learningRate;
    }

    public IReadOnlyList<Parameter<T>> Parameters => _parameters;

    /// <summary>The learning rate of the next step (finite, ≥ 0). Schedules set it before each step.</summary>
    public double LearningRate
    {
        get => _learningRate;
        set => _learningRate = value >= 0 && double.IsFinite(value)
            ? value
            : throw new ArgumentOutOfRangeException(nameof(LearningRate), value, "LearningRate must be finite and ≥ 0");
    }

    /// <summary>Steps taken so far. Set it only when restoring a checkpoint (Adam's bias correction and SGD's first momentum step depend on it).</summary>
    public int StepCount
    {
        get => _stepCount;
        set => _stepCount = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(StepCount), value, "StepCount must be ≥ 0");
    }

    /// <summary>One update of every parameter from its gradient, then every <see cref="Parameter{T}.AfterStep"/> hook.</summary>
    public void Step()
    {
        int step = _stepCount + 1;
        for (int i = 0; i < _parameters.Length; i++)
            if (_parameters[i].Length > 0) Update(i, _parameters[i], step);
        _stepCount = step;
        foreach (var p in _parameters) p.AfterStep?.Invoke(p);
    }

    /// <summary>
    /// Updates only parameter <paramref name="index"/> as the next <see cref="Step()"/> would (step StepCount + 1), without
    /// counting the step or running hooks: for a training step that interleaves the updates with its own backward pass
    /// (DDPNOpt, docs/math.md §6.5). Update every parameter once, then call <see cref="CompleteStep"/>.
    /// </summary>
    public void UpdateParameter(int index)
    {
        if (_parameters[index].Length > 0) Update(index, _parameters[index], _stepCount + 1);
    }

    /// <summary>Counts the step made by <see cref="UpdateParameter"/> calls and runs every <see cref="Parameter{T}.AfterStep"/> hook.</summary>
    public void CompleteStep()
    {
        _stepCount++;
        foreach (var p in _parameters) p.AfterStep?.Invoke(p);
    }

    /// <summary>Sets <see cref="LearningRate"/> from the schedule at <see cref="StepCount"/>, then steps.</summary>
    public void Step(ILearningRateSchedule schedule)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        LearningRate = schedule.LearningRate(_stepCount);
        Step();
    }

    public void ZeroGrad()
    {
        foreach (var p in _parameters) p.ZeroGrad();
    }

    /// <summary>
    /// The live state tensors, named "{parameter}.{optimizer}.{slot}" (e.g. "w.adam.m"), in a stable order.
    /// Together with <see cref="StepCount"/> they are everything a checkpoint must keep.
    /// </summary>
    public IEnumerable<(string Name, Tensor<T> Tensor)> State() => _state;

    /// <summary>
    /// Copies saved state back: every name of <see cref="State"/> must be present with the right length, and no other name.
    /// Nothing is changed when the check fails.
    /// </summary>
    public void Restore(int stepCount, IReadOnlyDictionary<string, T[]> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (stepCount < 0) throw new ArgumentOutOfRangeException(nameof(stepCount), stepCount, "step count must be ≥ 0");
        foreach (var (name, tensor) in _state)
        {
            if (!state.TryGetValue(name, out var data)) throw new ArgumentException($"saved optimizer state lacks '{name}'", nameof(state));
            if (data.Length != tensor.Length)
                throw new ArgumentException($"saved optimizer state '{name}' has {data.Length} elements, the optimizer's has {tensor.Length}", nameof(state));
        }
        var known = _state.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        var unknown = state.Keys.Where(k => !known.Contains(k)).ToArray();
        if (unknown.Length > 0) throw new ArgumentException($"saved optimizer state has unknown entries: {string.Join(", ", unknown)}", nameof(state));
        foreach (var (name, tensor) in _state) tensor.CopyFrom(state[name]);
        StepCount = stepCount;
    }

    /// <summary>Applies step number <paramref name="step"/> (1-based, as in PyTorch's bias correction) to one non-empty parameter.</summary>
    protected abstract void Update(int index, Parameter<T> parameter, int step);

    /// <summary>A zeroed state tensor shaped like the parameter, registered under "{parameter}.{slot}".</summary>
    protected Tensor<T> AddState(Parameter<T> parameter, string slot)
    {
        var tensor = parameter.Device.Allocate<T>(parameter.Shape);
        _state.Add(($"{parameter.Name}.{slot}", tensor));
        return tensor;
    }

    /// <summary>A host double as the element type, for kernel coefficients (computed in double, rounded once).</summary>
    protected static T Scalar(double value) => T.CreateTruncating(value);

    public void Dispose()
    {
        foreach (var (_, tensor) in _state) tensor.Dispose();
        _state.Clear();
        GC.SuppressFinalize(this);
    }
}
