namespace OptEq.Autodiff.Optimizers;

/// <summary>
/// RMSprop (Tieleman &amp; Hinton), as torch.optim.RMSprop without momentum and not centred: g̃ = g + λ·p,
/// v ← α·v + (1 − α)·g̃², p ← p − lr·g̃ / (√v + ε). Two elementwise kernels per parameter; state "…rmsprop.v".
/// </summary>
public sealed class Rmsprop<T> : Optimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Tensor<T>[] _v;

    public Rmsprop(IEnumerable<Parameter<T>> parameters, RmspropOptions? options = null)
        : base(parameters, (options ??= new RmspropOptions()).LearningRate)
    {
        Options = options;
        _v = Parameters.Select(p => AddState(p, "rmsprop.v")).ToArray();
    }

    public RmspropOptions Options { get; }

    /// <summary>The squared-gradient average of parameter <paramref name="index"/> (DDPNOpt reads it as its diagonal preconditioner).</summary>
    public Tensor<T> SecondMoment(int index) => _v[index];

    protected override void Update(int index, Parameter<T> parameter, int step)
    {
        var o = Options;
        T decay = Scalar(parameter.NoWeightDecay ? 0 : o.WeightDecay);
        var device = parameter.Device;
        device.Map(new RmspropSecondMoment<T>(Scalar(o.Alpha), Scalar(1 - o.Alpha), decay), _v[index], _v[index], parameter.Grad, parameter.Value);
        device.Map(new RmspropStep<T>(Scalar(LearningRate), Scalar(o.Epsilon), decay), parameter.Value, parameter.Value, parameter.Grad, _v[index]);
    }
}
