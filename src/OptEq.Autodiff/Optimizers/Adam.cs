namespace OptEq.Autodiff.Optimizers;

/// <summary>
/// Adam (Kingma &amp; Ba), as torch.optim.Adam without AMSGrad: g̃ = g + λ·p (L2 weight decay),
/// m ← β1·m + (1 − β1)·g̃, v ← β2·v + (1 − β2)·g̃², p ← p − lr/(1 − β1ᵗ) · m / (√v / √(1 − β2ᵗ) + ε).
/// One fused kernel per parameter updates m, v and p together; the bias corrections are host scalars.
/// </summary>
public class Adam<T> : Optimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Tensor<T>[] _m;
    private readonly Tensor<T>[] _v;
    private readonly bool _decoupled;

    public Adam(IEnumerable<Parameter<T>> parameters, AdamOptions? options = null)
        : this(parameters, RejectAdamWOptions(options ?? new AdamOptions()), decoupled: false, statePrefix: "adam") { }

    /// <summary>For <see cref="AdamW{T}"/>: <paramref name="decoupled"/> moves weight decay out of the gradient into a shrink of p.</summary>
    private protected Adam(IEnumerable<Parameter<T>> parameters, AdamOptions options, bool decoupled, string statePrefix)
        : base(parameters, options.LearningRate)
    {
        Options = options;
        _decoupled = decoupled;
        _m = Parameters.Select(p => AddState(p, $"{statePrefix}.m")).ToArray();
        _v = Parameters.Select(p => AddState(p, $"{statePrefix}.v")).ToArray();
    }

    public AdamOptions Options { get; }

    /// <summary>The second-moment average v of parameter <paramref name="index"/> (DDPNOpt reads it as its diagonal preconditioner).</summary>
    public Tensor<T> SecondMoment(int index) => _v[index];

    protected override void Update(int index, Parameter<T> parameter, int step)
    {
        var o = Options;
        double decay = parameter.NoWeightDecay ? 0 : o.WeightDecay;
        T l2 = Scalar(_decoupled ? 0 : decay);
        T shrink = Scalar(_decoupled ? 1 - LearningRate * decay : 1);
        double biasCorrection1 = 1 - Math.Pow(o.Beta1, step), biasCorrection2 = 1 - Math.Pow(o.Beta2, step);

        var device = parameter.Device;
        Tensor<T> m = _m[index], v = _v[index], p = parameter.Value;
        var update = new AdamUpdate<T>(
            new AdamFirstMoment<T>(Scalar(o.Beta1), Scalar(1 - o.Beta1), l2),
            new AdamSecondMoment<T>(Scalar(o.Beta2), Scalar(1 - o.Beta2), l2),
            new AdamParameterStep<T>(shrink, Scalar(LearningRate / biasCorrection1), Scalar(Math.Sqrt(biasCorrection2)), Scalar(o.Epsilon)));
        device.UpdateInPlace(update, m, v, p, parameter.Grad);
    }

    // AdamWOptions default to a decay that Adam would apply as L2: almost certainly a mix-up.
    private static AdamOptions RejectAdamWOptions(AdamOptions options)
        => options is AdamWOptions
            ? throw new ArgumentException("AdamWOptions are for AdamW (decoupled weight decay); give Adam an AdamOptions", nameof(options))
            : options;
}
