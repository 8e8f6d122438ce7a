namespace OptEq.Autodiff.Optimizers;

/// <summary>
/// Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay, as torch.optim.SGD:
/// g̃ = g + λ·p; with momentum, buf = g̃ on the first step, then buf = μ·buf + (1 − dampening)·g̃, and the step
/// direction is buf (or g̃ + μ·buf with Nesterov); p ← p − lr·direction. One or two kernels per parameter.
/// </summary>
public sealed class Sgd<T> : Optimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Tensor<T>[]? _momentum;

    public Sgd(IEnumerable<Parameter<T>> parameters, SgdOptions? options = null)
        : base(parameters, (options ??= new SgdOptions()).LearningRate)
    {
        options.Validate();
        Options = options;
        // No momentum, no state: plain SGD needs nothing between steps.
        if (options.Momentum > 0) _momentum = Parameters.Select(p => AddState(p, "sgd.momentum")).ToArray();
    }

    public SgdOptions Options { get; }

    protected override void Update(int index, Parameter<T> parameter, int step)
    {
        var device = parameter.Device;
        var o = Options;
        T lr = Scalar(LearningRate), decay = Scalar(parameter.NoWeightDecay ? 0 : o.WeightDecay);
        if (_momentum is null)
        {
            device.Map(new SgdStep<T>(lr, decay), parameter.Value, parameter.Value, parameter.Grad);
            return;
        }
        var buf = _momentum[index];
        if (step == 1) device.Map(new DecayedGradient<T>(decay), buf, parameter.Grad, parameter.Value);
        else device.Map(new SgdMomentumBuffer<T>(Scalar(o.Momentum), Scalar(1 - o.Dampening), decay), buf, buf, parameter.Grad, parameter.Value);
        if (o.Nesterov) device.Map(new SgdNesterovStep<T>(lr, Scalar(o.Momentum), decay), parameter.Value, parameter.Value, parameter.Grad, buf);
        else device.Map(new SgdMomentumStep<T>(lr), parameter.Value, parameter.Value, buf);
    }
}
