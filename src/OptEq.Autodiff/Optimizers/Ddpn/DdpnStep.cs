using OptEq.Autodiff.Layers;
using OptEq.Autodiff.Losses;
using OptEq.Autodiff.Models;
using OptEq.Autodiff.Optimizers.Schedules;
using OptEq.Kernels.Activations;

namespace OptEq.Autodiff.Optimizers.Ddpn;

/// <summary>
/// One DDPNOpt training step (docs/math.md §6) for a feedforward stack of linear layers and convolutions, each optionally
/// followed by an activation, and average poolings (the mlp and cnn models; docs/math.md §6.8 for the convolution and
/// pooling stages). It is its own training step rather than an <see cref="Optimizer{T}"/> over flat gradients,
/// because it needs each layer's input and σ′, a backward pass that carries the value derivatives V_x and V_xx = y·yᵀ + ε·I
/// (docs/math.md §6.3–§6.4), and a second forward pass that applies the feedback K·δx at the new states (§6.5). Its
/// forward and backward issue the same kernels in the same order as the tape does for this model, so with the feedback
/// off the gradients and the base optimizer's updates are the tape's bit for bit. Every buffer is allocated on the first
/// step of each batch size; later steps allocate nothing.
/// </summary>
public sealed class DdpnStep<T> : IDisposable where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Device _device;
    private readonly Optimizer<T> _optimizer;
    private readonly Stage[] _stages;
    private readonly Dictionary<int, Workspace> _workspaces = [];
    private readonly T _epsilon;
    private readonly bool _kfac;
    private readonly T _bound;
    private readonly DeviceLoss<T> _loss;
    private bool _factorsReady;
    private Workspace? _last;
    // An equilibrium model's layers below its explicit head (null for a feedforward stack), their parameters' indices in
    // the optimizer, and the head's pass as one delegate made once (docs/math.md §6.7).
    private readonly DdpnImplicitPrefix<T>? _prefix;
    private readonly int[] _prefixIndices = [];
    private readonly Func<Tensor<T>, Tensor<T>>? _headPass;
    private (Workspace W, Tensor<int> Labels, bool Refresh) _pending;
    private T _headLoss = T.Zero;

    /// <param name="loss">The terminal cost Φ (default: the cross-entropy); V_x and V_xx at the top come from its gradient (docs/math.md §6.3).</param>
    public DdpnStep(Device device, Classifier<T> model, Optimizer<T> optimizer, DdpnOptions options, ClassificationLoss? loss = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        _device = device;
        _optimizer = optimizer;
        Options = options ?? throw new ArgumentNullException(nameof(options));
        if (optimizer is not (Sgd<T> or Rmsprop<T> or Adam<T>) || optimizer is AdamW<T>)
            throw new ArgumentException($"ddpnopt needs an sgd, rmsprop or adam base optimizer, got {optimizer.GetType().Name}", nameof(optimizer));
        options.Validate();
        if (options.Base != (optimizer is Sgd<T> ? OptimizerKind.Sgd : optimizer is Rmsprop<T> ? OptimizerKind.Rmsprop : OptimizerKind.Adam))
            throw new ArgumentException($"ddpnopt: the options name the base {OptimizerFactory.Name(options.Base)} but the optimizer is a {optimizer.GetType().Name.Split('`')[0]}", nameof(optimizer));
        _kfac = options.EffectivePreconditioner == DdpnPreconditioner.Kfac;
        _bound = T.CreateTruncating(options.Bound);
        _epsilon = T.CreateTruncating(options.Epsilon);
        int first = FirstStage(model);
        if (_kfac && model.Layers.Skip(first).Any(l => l is Conv2dLayer<T>))
            throw new NotSupportedException("ddpnopt: the kfac preconditioner covers linear layers only, not convolutions (docs/math.md §6.8): use --ddpn-precond identity (base sgd) or diagonal (rmsprop, adam)");
        if (first > 0)
        {
            _prefix = new DdpnImplicitPrefix<T>(device, [.. model.Layers.Take(first)]);
            _prefixIndices = [.. _prefix.Parameters().Select(p => IndexOf(optimizer, p))];
            _headPass = HeadPass;
        }
        _stages = BuildStages(model, optimizer, first);
        _loss = new DeviceLoss<T>(device, loss ?? ClassificationLoss.CrossEntropy, model.Config.Classes);
    }

    /// <summary>Whether the model has layers below its explicit stages (an equilibrium model's injection and equilibrium).</summary>
    public bool HasImplicitPrefix => _prefix is not null;

    public DdpnOptions Options { get; }

    /// <summary>The DDP stages of the model (its linear layers, convolutions and poolings), bottom to top.</summary>
    public int Stages => _stages.Length;

    /// <summary>
    /// One step on a batch: forward, loss, the DDP backward pass with the base optimizer's update of each layer as it is
    /// reached, then the feedback forward pass. Returns the batch's mean loss and its logits [count, classes]
    /// at the parameters before the step (valid until the next step). The learning rate comes from the schedule at the
    /// optimizer's step count.
    /// </summary>
    public (T Loss, Tensor<T> Logits) Run(Tensor<T> images, Tensor<int> labels, ILearningRateSchedule schedule)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        int n = images.Shape[0];
        if (!_workspaces.TryGetValue(n, out var w)) _workspaces[n] = w = new Workspace(_device, _stages, n, Options.Feedback, _kfac, _prefix is not null);
        _last = w;
        _optimizer.LearningRate = schedule.LearningRate(_optimizer.StepCount);
        _optimizer.ZeroGrad();
        bool refreshFactors = _kfac && (!_factorsReady || _optimizer.StepCount % Options.KfacRefresh == 0);
        if (_prefix is not null) return RunWithPrefix(w, images, labels, refreshFactors);
        Forward(w, images);
        T loss = Loss(w, labels);
        // K-FAC: the factors are re-estimated on this batch and inverted every KfacRefresh steps (and on the first step
        // after construction or a resume: the factors are not checkpointed), never in between.
        bool refresh = refreshFactors;
        Backward(w, images, refresh);
        _factorsReady |= refresh;
        if (Options.Feedback) FeedbackForward(w, images);
        _optimizer.CompleteStep();
        return (loss, w.Logits);
    }

    /// <summary>
    /// An equilibrium model's step (docs/math.md §6.7): the prefix's forward to z*, the head's DDP pass on z* (inside the
    /// prefix's replay, <see cref="HeadPass"/>), the prefix's backward seeded with V_x at z* and the base optimizer's step
    /// of its weights, then the feedback forward from ẑ* (the prefix at its new weights).
    /// </summary>
    private (T Loss, Tensor<T> Logits) RunWithPrefix(Workspace w, Tensor<T> images, Tensor<int> labels, bool refresh)
    {
        _pending = (w, labels, refresh);
        var z = _prefix!.ForwardAndBackward(images, _headPass!);
        _factorsReady |= refresh;
        foreach (int index in _prefixIndices) _optimizer.UpdateParameter(index);
        if (Options.Feedback)
        {
            _device.Copy(_prefix.ForwardAtNewWeights(images.Shape[0]), w.XHat[0]!);
            FeedbackForward(w, z);
        }
        _prefix.EndStep();
        _optimizer.CompleteStep();
        return (_headLoss, w.Logits);
    }

    /// <summary>The head's forward, loss and DDP backward on z* (its stages updated as reached); returns V_x at z*.</summary>
    private Tensor<T> HeadPass(Tensor<T> z)
    {
        var (w, labels, refresh) = _pending;
        Forward(w, z);
        _headLoss = Loss(w, labels);
        Backward(w, z, refresh);
        return w.Vx[0]!;
    }

    /// <summary>V_x at the input of stage <paramref name="stage"/> (≥ 1; ≥ 0 on an equilibrium model: V_x at z*) after the last step (rows: samples; docs/math.md §6.4).</summary>
    public Tensor<T> ValueGradient(int stage) => LastWorkspace().Vx[CheckStage(stage)]!;

    /// <summary>The rank-one factor y of V_xx = y·yᵀ (+ ε·I where it is used) at the input of stage ≥ 1 after the last step.</summary>
    public Tensor<T> ValueHessianFactor(int stage) => LastWorkspace().Y[CheckStage(stage)]!;

    private Workspace LastWorkspace() => _last ?? throw new InvalidOperationException("no step has run yet");

    private int CheckStage(int stage)
    {
        if (!Options.Feedback) throw new InvalidOperationException("with the feedback off, V_x is plain backprop and V_xx is not formed");
        int lowest = _prefix is null ? 1 : 0;
        return stage >= lowest && stage < _stages.Length ? stage : throw new ArgumentOutOfRangeException(nameof(stage), stage, $"stage must lie in [{lowest}, {_stages.Length})");
    }

    private static Tensor<T> Input(Workspace w, Tensor<T> images, int t) => t == 0 ? images : w.Value[t - 1];

    // The tape's order for Linear then Activate: C = x·Wᵀ, + b, then σ with σ′ kept (a convolution: conv + b in one call, as Ops.Conv2d).
    private void Forward(Workspace w, Tensor<T> images)
    {
        for (int t = 0; t < _stages.Length; t++)
        {
            var s = _stages[t];
            Apply(s, Input(w, images, t), w.Pre[t]);
            if (s.Activation is not null) _device.Prox(s.Activation, w.Pre[t], w.Value[t], w.D[t]);
        }
    }

    // As the tape's loss op: per-row loss and the gradient ∇ℓ/N in one pass ((softmax − onehot)/N, or (f − μ_y)/N for
    // MMC), then the mean. Everything above the head's output follows from that gradient alone.
    private T Loss(Workspace w, Tensor<int> labels)
    {
        T mean = T.One / T.CreateChecked(w.Rows);
        _loss.PerRow(w.Logits, labels, w.Losses, w.LogitGrad, mean);
        _device.RowReduce(RowReduction.Sum, w.LossRow, null, w.LossValue);
        _device.Axpby(mean, w.LossValue, T.Zero, w.LossValue, w.LossValue);
        if (Options.Feedback)
        {
            // Gauss–Newton terminal Hessian of the mean loss, per sample: N·v·vᵀ = y·yᵀ with y = √N·v (docs/math.md §6.3).
            _device.Axpby(T.Sqrt(T.CreateChecked(w.Rows)), w.LogitGrad, T.Zero, w.LogitGrad, w.YTop);
        }
        Span<T> host = stackalloc T[1];
        w.LossValue.CopyTo(host);
        return host[0];
    }

    private void Backward(Workspace w, Tensor<T> images, bool refresh)
    {
        bool feedback = Options.Feedback;
        for (int t = _stages.Length - 1; t >= 0; t--)
        {
            var s = _stages[t];
            var x = Input(w, images, t);
            var v = t == _stages.Length - 1 ? w.LogitGrad : w.Vx[t + 1]!;
            var y = t == _stages.Length - 1 ? w.YTop : w.Y[t + 1]!;
            if (s.Kind == StageKind.Pool)
            {
                // No control: V_x = Pᵀ·V′_x and V_xx = Pᵀ·y′y′ᵀ·P, i.e. y = Pᵀ·y′ (docs/math.md §6.8).
                if (t == 0 && _prefix is null) continue;
                _device.AvgPool2dBackward(s.Pool, v, w.Vx[t]!);
                if (feedback) _device.AvgPool2dBackward(s.Pool, y, w.Y[t]!);
                continue;
            }
            var g = v;
            var h = y;
            if (s.Activation is not null)
            {
                g = w.G[t]!;
                _device.Map(new DdpnMultiply<T>(), g, v, w.D[t]);
                if (feedback) { h = w.H[t]!; _device.Map(new DdpnMultiply<T>(), h, y, w.D[t]); }
            }
            else if (feedback && w.H[t] is not null) { h = w.H[t]!; _device.Copy(y, h); } // a convolution's per-sample views read H
            w.HUsed[t] = h;
            // Q_u: the gradient, accumulated as the tape accumulates it (bias: ones·g; weight: gᵀ·x; a convolution's
            // two backward kernels, as Ops.Conv2d).
            if (s.Kind == StageKind.Conv)
            {
                _device.Conv2dBackwardWeight(s.Conv, x, g, s.Weight.Grad, T.One);
                if (s.Bias is not null) _device.Conv2dBackwardBias(s.Conv, g, s.Bias.Grad, T.One);
            }
            else
            {
                if (s.Bias is not null) _device.Gemm(MatrixOp.None, MatrixOp.None, T.One, w.OnesRow, g, T.One, s.BiasGradRow!);
                _device.Gemm(MatrixOp.Transpose, MatrixOp.None, T.One, g, x, T.One, s.Weight.Grad);
            }
            if (_kfac) NaturalGradient(w, s, t, x, g, refresh);
            if (!feedback)
            {
                // Q_ux = 0: V_x = Q_x, plain backprop through the weights before they move (docs/math.md §6.6).
                if (t > 0 || _prefix is not null) BackwardInput(s, g, s.Weight.Value, w.Vx[t]!);
                Update(s);
                continue;
            }
            _device.Copy(s.Weight.Value, s.WeightOld!);
            if (s.Bias is not null) _device.Copy(s.Bias.Value, s.BiasOld!);
            Update(s);
            if (_kfac)
            {
                if (t > 0 || _prefix is not null) KroneckerValueDerivatives(w, s, t, x, g, h);
                continue;
            }
            Precondition(s);
            if (t == 0 && _prefix is null) continue; // V_x and V_xx at the network's input are never used
            // V_x = Q_x − Q_xu·M⁻¹·Q_u: with k̃ = −M⁻¹·Q_u and r = k̃·x̄ per sample, V_x = Wᵀ(g + h⟨h, r⟩ + ε·σ′²·r) (§6.4);
            // for a convolution r = conv(x, k̃_W) + k̃_b and Wᵀ is convᵀ (§6.8).
            _device.Map(new DdpnNegativeProduct<T>(), s.StepW!, s.StepW!, s.MinvW!, s.Weight.Grad);
            if (s.Bias is not null) _device.Map(new DdpnNegativeProduct<T>(), s.StepB!, s.StepB!, s.MinvB!, s.Bias.Grad);
            Apply(s, x, w.R[t]!, s.StepW!, s.StepB);
            _device.DdpnRankOneCorrection(g, h, w.R[t]!, w.D[t], _epsilon, w.Corr[t]!, _bound);
            BackwardInput(s, w.Corr[t]!, s.WeightOld!, w.Vx[t]!);
            // V_xx = (1 − q_uᵀM⁻¹q_u)·q_x·q_xᵀ with q_x = Wᵀh, q_u = h ⊗ x̄: the rank-one factor y = c·(Wᵀh) (§6.3, Proposition 3).
            if (s.Kind == StageKind.Conv) ConvolutionValueFactor(w, s, t, x);
            else
            {
                _device.Map(new DdpnMultiply<T>(), w.XSquared[t]!, x, x);
                _device.Gemm(MatrixOp.None, MatrixOp.Transpose, T.One, w.XSquared[t]!, s.MinvW!, T.Zero, w.P[t]!);
                if (s.Bias is not null) _device.AddBias(w.P[t]!, s.MinvB!, w.P[t]!);
                _device.DdpnValueFactor(h, w.P[t]!, w.Factor);
            }
            _device.RowAxpby(w.Factor, h, w.Zeros, h, w.ScaledH[t]!);
            BackwardInput(s, w.ScaledH[t]!, s.WeightOld!, w.Y[t]!);
        }
    }

    /// <summary>
    /// The value factor c = √max(0, 1 − q_uᵀM⁻¹q_u) of a convolution stage (docs/math.md §6.8): q_u of sample n is the
    /// weight gradient of hⁿ against xⁿ alone (and the pixel sums of hⁿ for the bias), so its M⁻¹-weighted squared norm is
    /// Σⱼ (q_u)ⱼ²·(M⁻¹)ⱼ: one weight-gradient kernel per sample into its row of a [batch, weights] matrix, squared, then one
    /// GEMM with M⁻¹ as a column (and likewise for the bias), then the row kernel on a single column.
    /// </summary>
    private void ConvolutionValueFactor(Workspace w, Stage s, int t, Tensor<T> x)
    {
        var c = w.Conv[t]!;
        if (c.InputCopy is not null) _device.Copy(x, c.InputCopy); // the prefix's z*: per-sample views need a tensor of our own
        for (int n = 0; n < w.Rows; n++) _device.Conv2dBackwardWeight(s.Conv, c.InputRows[n], c.HRows[n], c.WeightGradients[n], T.Zero);
        _device.Map(new DdpnMultiply<T>(), c.PerSampleWeight, c.PerSampleWeight, c.PerSampleWeight);
        _device.Gemm(MatrixOp.None, MatrixOp.None, T.One, c.PerSampleWeight, s.MinvWColumn!, T.Zero, c.Quadratic);
        if (s.Bias is not null)
        {
            _device.RowReduce(RowReduction.Sum, c.HChannels!, null, c.PerSampleBiasFlat!);
            _device.Map(new DdpnMultiply<T>(), c.PerSampleBias!, c.PerSampleBias!, c.PerSampleBias!);
            _device.Gemm(MatrixOp.None, MatrixOp.None, T.One, c.PerSampleBias!, s.MinvBColumn!, T.One, c.Quadratic);
        }
        _device.DdpnValueFactor(c.OnesColumn, c.Quadratic, w.Factor);
    }

    /// <summary>The stage's map at <paramref name="weight"/> and <paramref name="bias"/> (default: its current parameters) into output.</summary>
    private void Apply(Stage s, Tensor<T> x, Tensor<T> output, Tensor<T>? weight = null, Tensor<T>? bias = null)
    {
        switch (s.Kind)
        {
            case StageKind.Pool:
                _device.AvgPool2d(s.Pool, x, output);
                return;
            case StageKind.Conv:
                _device.Conv2d(s.Conv, x, weight ?? s.Weight.Value, weight is null ? s.Bias?.Value : bias, output);
                return;
            default:
                _device.Gemm(MatrixOp.None, MatrixOp.Transpose, T.One, x, weight ?? s.Weight.Value, T.Zero, output);
                var b = weight is null ? s.Bias?.Value : bias;
                if (b is not null) _device.AddBias(output, b, output);
                return;
        }
    }

    /// <summary>result ← Wᵀ·v per sample (v·W for a linear layer, convᵀ for a convolution): the stage's input adjoint.</summary>
    private void BackwardInput(Stage s, Tensor<T> v, Tensor<T> weight, Tensor<T> result)
    {
        if (s.Kind == StageKind.Conv) _device.Conv2dBackwardInput(s.Conv, v, weight, result);
        else _device.Gemm(MatrixOp.None, MatrixOp.None, T.One, v, weight, T.Zero, result);
    }

    /// <summary>
    /// K-FAC (docs/math.md §6.2): on a refresh step, A ← β·A + (1 − β)·X̄ᵀX̄/N and G ← β·G + (1 − β)·N·gᵀg (the rows of g
    /// are ∇ℓₙ/N at the pre-activation, so N·gᵀg = (1/N)·Σₙ ∇ℓₙ∇ℓₙᵀ, the second moment of the per-sample output
    /// gradients) and their damped inverses; then Q_u ← (G + γI)⁻¹·[Q_W | Q_b]·(A + γI)⁻¹, which the sgd base steps along.
    /// </summary>
    private void NaturalGradient(Workspace w, Stage s, int t, Tensor<T> x, Tensor<T> g, bool refresh)
    {
        var k = s.Kfac!;
        var xBar = w.XBar[t] ?? x;
        if (s.Bias is not null) _device.Copy(x, w.XBarInputs[t]!);
        if (refresh)
        {
            double decay = _factorsReady ? Options.KfacDecay : 0, rows = w.Rows;
            _device.Gemm(MatrixOp.Transpose, MatrixOp.None, T.CreateTruncating((1 - decay) / rows), xBar, xBar, T.CreateTruncating(decay), k.A);
            _device.Gemm(MatrixOp.Transpose, MatrixOp.None, T.CreateTruncating((1 - decay) * rows), g, g, T.CreateTruncating(decay), k.G);
            Invert(k.A, k.AInverse, k.Status, t, "A (layer inputs)");
            Invert(k.G, k.GInverse, k.Status, t, "G (output gradients)");
        }
        _device.Copy(s.Weight.Grad, k.NaturalWeight);
        if (s.Bias is not null) _device.Copy(s.BiasGradColumn!, k.NaturalBias!);
        _device.Gemm(MatrixOp.None, MatrixOp.None, T.One, k.GInverse, k.Natural, T.Zero, k.Scratch);
        _device.Gemm(MatrixOp.None, MatrixOp.None, T.One, k.Scratch, k.AInverse, T.Zero, k.Natural);
        _device.Copy(k.NaturalWeight, s.Weight.Grad);
        if (s.Bias is not null) _device.Copy(k.NaturalBias!, s.BiasGradColumn!);
    }

    private void Invert(Tensor<T> factor, Tensor<T> inverse, Tensor<int> status, int t, string name)
    {
        _device.SpdInverse(factor, T.CreateTruncating(Options.KfacDamping), inverse, status);
        Span<int> host = stackalloc int[1];
        status.CopyTo(host); // a host read every KfacRefresh steps only
        if (host[0] != 0)
            throw new InvalidOperationException($"ddpnopt kfac: the factor {name} of layer {t} plus the damping {Options.KfacDamping} is not positive definite (non-finite values?); raise --ddpn-kfac-damping or lower the learning rate");
    }

    /// <summary>
    /// V_x and the rank-one V_xx factor for M⁻¹ = lr·(A⁻¹ ⊗ G⁻¹) (docs/math.md §6.3–§6.4): r = k̃·x̄ with k̃ = −lr·(the
    /// natural gradient), and q_uᵀM⁻¹q_u = lr·(hᵀG⁻¹h)·(x̄ᵀA⁻¹x̄) per sample.
    /// </summary>
    private void KroneckerValueDerivatives(Workspace w, Stage s, int t, Tensor<T> x, Tensor<T> g, Tensor<T> h)
    {
        var k = s.Kfac!;
        var xBar = w.XBar[t] ?? x;
        T lr = T.CreateTruncating(_optimizer.LearningRate);
        _device.Gemm(MatrixOp.None, MatrixOp.Transpose, -lr, xBar, k.Natural, T.Zero, w.R[t]!);
        _device.DdpnRankOneCorrection(g, h, w.R[t]!, w.D[t], _epsilon, w.Corr[t]!, _bound);
        _device.Gemm(MatrixOp.None, MatrixOp.None, T.One, w.Corr[t]!, s.WeightOld!, T.Zero, w.Vx[t]!);
        _device.Gemm(MatrixOp.None, MatrixOp.None, T.One, h, k.GInverse, T.Zero, w.HG[t]!);
        _device.Gemm(MatrixOp.None, MatrixOp.None, T.One, xBar, k.AInverse, T.Zero, w.XA[t]!);
        _device.DdpnKroneckerValueFactor(h, w.HG[t]!, xBar, w.XA[t]!, lr, w.Factor);
        _device.RowAxpby(w.Factor, h, w.Zeros, h, w.ScaledH[t]!);
        _device.Gemm(MatrixOp.None, MatrixOp.None, T.One, w.ScaledH[t]!, s.WeightOld!, T.Zero, w.Y[t]!);
    }

    private void Update(Stage s)
    {
        if (s.Kind == StageKind.Pool) return;
        _optimizer.UpdateParameter(s.WeightIndex);
        if (s.BiasIndex >= 0) _optimizer.UpdateParameter(s.BiasIndex);
    }

    /// <summary>M⁻¹ of the base optimizer after this step's update of its state (docs/math.md §6.2).</summary>
    private void Precondition(Stage s)
    {
        double lr = _optimizer.LearningRate;
        switch (_optimizer)
        {
            case Adam<T> adam:
                double correction = Math.Sqrt(1 - Math.Pow(adam.Options.Beta2, _optimizer.StepCount + 1));
                var adamInverse = new DdpnAdamInverse<T>(T.CreateTruncating(lr), T.CreateTruncating(correction), T.CreateTruncating(adam.Options.Epsilon));
                _device.Map(adamInverse, s.MinvW!, adam.SecondMoment(s.WeightIndex));
                if (s.Bias is not null) _device.Map(adamInverse, s.MinvB!, adam.SecondMoment(s.BiasIndex));
                break;
            case Rmsprop<T> rmsprop:
                var rmsInverse = new DdpnRmspropInverse<T>(T.CreateTruncating(lr), T.CreateTruncating(rmsprop.Options.Epsilon));
                _device.Map(rmsInverse, s.MinvW!, rmsprop.SecondMoment(s.WeightIndex));
                if (s.Bias is not null) _device.Map(rmsInverse, s.MinvB!, rmsprop.SecondMoment(s.BiasIndex));
                break;
            default: // sgd: the identity, M⁻¹ = lr·I
                _device.Fill(s.MinvW!, T.CreateTruncating(lr));
                if (s.Bias is not null) _device.Fill(s.MinvB!, T.CreateTruncating(lr));
                break;
        }
    }

    /// <summary>
    /// x̂₀ = x₀; for each stage t ≥ 1, u_t ← u_t + K_t·(x̂_t − x_t), then x̂_{t+1} = f_t(x̂_t, u_t) (docs/math.md §6.5). The
    /// open-loop part k_t is already in u_t (the base update); K_t·δx = −M⁻¹·Σₙ βₙ ⊗ x̄ₙ with βₙ = h(h·z) + ε·σ′²·z, z = W·δx.
    /// </summary>
    private void FeedbackForward(Workspace w, Tensor<T> images)
    {
        int last = _stages.Length - 1;
        for (int t = 0; t < last; t++)
        {
            if (t >= 1 || _prefix is not null) ApplyFeedback(w, images, t);
            var s = _stages[t];
            var xHat = t == 0 && _prefix is null ? images : w.XHat[t]!;
            var next = w.XHat[t + 1]!;
            var pre = s.Activation is null ? next : w.PreHat[t]!;
            Apply(s, xHat, pre);
            if (s.Activation is not null) _device.Prox(s.Activation, pre, next);
        }
        if (last >= 1 || _prefix is not null) ApplyFeedback(w, images, last);
    }

    private void ApplyFeedback(Workspace w, Tensor<T> images, int t)
    {
        var s = _stages[t];
        if (s.Kind == StageKind.Pool) return; // no control
        var x = Input(w, images, t);
        _device.Axpby(T.One, w.XHat[t]!, -T.One, x, w.Dx[t]!);
        if (s.Kind == StageKind.Conv) _device.Conv2d(s.Conv, w.Dx[t]!, s.WeightOld!, null, w.Z[t]!);
        else _device.Gemm(MatrixOp.None, MatrixOp.Transpose, T.One, w.Dx[t]!, s.WeightOld!, T.Zero, w.Z[t]!);
        _device.DdpnRankOneCorrection(null, w.HUsed[t]!, w.Z[t]!, w.D[t], _epsilon, w.Beta[t]!);
        if (_kfac)
        {
            // K_t·δx = −lr·G⁻¹·(Σₙ βₙ ⊗ x̄ₙ)·A⁻¹ (docs/math.md §6.5 with the Kronecker M⁻¹).
            var k = s.Kfac!;
            T lr = T.CreateTruncating(_optimizer.LearningRate);
            _device.Gemm(MatrixOp.Transpose, MatrixOp.None, T.One, w.Beta[t]!, w.XBar[t] ?? x, T.Zero, k.Natural);
            _device.Gemm(MatrixOp.None, MatrixOp.None, T.One, k.GInverse, k.Natural, T.Zero, k.Scratch);
            _device.Gemm(MatrixOp.None, MatrixOp.None, T.One, k.Scratch, k.AInverse, T.Zero, k.Natural);
            var scaled = new DdpnClippedScaledFeedback<T>(lr, _bound);
            _device.Map(scaled, s.Weight.Value, s.Weight.Value, k.NaturalWeight, s.WeightOld!);
            if (s.Bias is not null) _device.Map(scaled, s.BiasValueColumn!, s.BiasValueColumn!, k.NaturalBias!, s.BiasOldColumn!);
            return;
        }
        // Σₙ βₙ ⊗ x̄ₙ: the weight gradient of β against the nominal inputs (for a convolution, its weight and bias kernels).
        if (s.Kind == StageKind.Conv) _device.Conv2dBackwardWeight(s.Conv, x, w.Beta[t]!, s.FeedbackW!);
        else _device.Gemm(MatrixOp.Transpose, MatrixOp.None, T.One, w.Beta[t]!, x, T.Zero, s.FeedbackW!);
        var clipped = new DdpnClippedFeedback<T>(_bound);
        _device.Map(clipped, s.Weight.Value, s.Weight.Value, s.MinvW!, s.FeedbackW!, s.WeightOld!);
        if (s.Bias is null) return;
        if (s.Kind == StageKind.Conv) _device.Conv2dBackwardBias(s.Conv, w.Beta[t]!, s.FeedbackB!);
        else _device.Gemm(MatrixOp.None, MatrixOp.None, T.One, w.OnesRow, w.Beta[t]!, T.Zero, s.FeedbackBRow!);
        _device.Map(clipped, s.Bias.Value, s.Bias.Value, s.MinvB!, s.FeedbackB!, s.BiasOld!);
    }

    /// <summary>
    /// The first layer of the explicit stack on top: 0 for a feedforward model; on a model with an equilibrium layer, the
    /// layer after the last one that is not linear, a convolution, a pooling or an activation (its head).
    /// </summary>
    private static int FirstStage(Classifier<T> model)
    {
        var layers = model.Layers;
        int last = -1;
        for (int i = 0; i < layers.Count; i++) if (!IsStageLayer(layers[i]) && layers[i] is not ActivationLayer<T>) last = i;
        if (last < 0) return 0;
        if (!model.HasEquilibrium)
            throw new NotSupportedException($"ddpnopt supports feedforward stacks of linear layers, convolutions, average poolings and activations, and equilibrium models with an explicit head; layer {last} is a {layers[last].GetType().Name.Split('`')[0]} (see docs/math.md §6.7)");
        if (last == layers.Count - 1 || !IsStageLayer(layers[last + 1]) || layers[^1] is not Linear<T>)
            throw new NotSupportedException("ddpnopt: an equilibrium model needs a linear head on top of its last equilibrium layer, optionally after poolings or convolutions (see docs/math.md §6.7)");
        return last + 1;
    }

    private static bool IsStageLayer(ILayer<T> layer) => layer is Linear<T> or Conv2dLayer<T> or AvgPool2dLayer<T>;

    private Stage[] BuildStages(Classifier<T> model, Optimizer<T> optimizer, int first)
    {
        var stages = new List<Stage>();
        var layers = model.Layers;
        for (int i = first; i < layers.Count; i++)
        {
            if (!IsStageLayer(layers[i]))
                throw new NotSupportedException(layers[i] is ActivationLayer<T>
                    ? "ddpnopt: an activation must follow a linear layer or a convolution"
                    : $"ddpnopt supports feedforward stacks of linear layers, convolutions, average poolings and activations (the mlp and cnn models) only; layer {i} is a {layers[i].GetType().Name.Split('`')[0]} (see docs/math.md §6.7)");
            if (layers[i] is AvgPool2dLayer<T> pool)
            {
                if (i + 1 < layers.Count && layers[i + 1] is ActivationLayer<T>)
                    throw new NotSupportedException("ddpnopt: an activation must follow a linear layer or a convolution, not a pooling");
                stages.Add(new Stage(pool.Geometry));
                continue;
            }
            var (weight, bias, convolution) = layers[i] is Conv2dLayer<T> conv
                ? (conv.Weight, conv.Bias, (Conv2dGeometry?)conv.Geometry)
                : (((Linear<T>)layers[i]).Weight, ((Linear<T>)layers[i]).Bias, (Conv2dGeometry?)null);
            Activation? activation = null;
            if (i + 1 < layers.Count && layers[i + 1] is ActivationLayer<T> act) { activation = act.Activation; i++; }
            stages.Add(new Stage(_device, weight, bias, convolution, activation, IndexOf(optimizer, weight), bias is null ? -1 : IndexOf(optimizer, bias), Options.Feedback, _kfac));
        }
        return [.. stages];
    }

    private static int IndexOf(Optimizer<T> optimizer, Parameter<T> p)
    {
        for (int i = 0; i < optimizer.Parameters.Count; i++) if (ReferenceEquals(optimizer.Parameters[i], p)) return i;
        throw new ArgumentException($"ddpnopt: the optimizer does not update parameter '{p.Name}'");
    }

    public void Dispose()
    {
        foreach (var s in _stages) s.Dispose();
        foreach (var w in _workspaces.Values) w.Dispose();
        _prefix?.Dispose();
        _workspaces.Clear();
        _loss.Dispose();
    }

    private enum StageKind { Linear, Conv, Pool }

    /// <summary>
    /// One linear layer or convolution and its activation, or an average pooling (no parameters), with the per-layer
    /// tensors of a step (sized by the weights).
    /// </summary>
    private sealed class Stage : IDisposable
    {
        private readonly List<Tensor<T>> _owned = [];
        private readonly Parameter<T>? _weight;

        /// <summary>A pooling stage: a parameter-free linear map P.</summary>
        public Stage(Pool2dGeometry pool)
        {
            Kind = StageKind.Pool;
            Pool = pool;
            (InputSize, OutputSize) = (pool.InputSize, pool.OutputSize);
            WeightIndex = BiasIndex = -1;
        }

        /// <summary>A linear layer (<paramref name="conv"/> null) or a convolution of that geometry.</summary>
        public Stage(Device device, Parameter<T> weight, Parameter<T>? bias, Conv2dGeometry? conv, Activation? activation, int weightIndex, int biasIndex, bool feedback, bool kfac)
        {
            Kind = conv is null ? StageKind.Linear : StageKind.Conv;
            _weight = weight;
            Bias = bias;
            Activation = activation;
            WeightIndex = weightIndex;
            BiasIndex = biasIndex;
            Out = Weight.Shape[0];
            In = Weight.Shape[1];
            if (conv is { } g) { Conv = g; (InputSize, OutputSize) = (g.InputSize, g.OutputSize); }
            else (InputSize, OutputSize) = (In, Out);
            BiasGradRow = Bias?.Grad.Reshape(1, Out);
            BiasGradColumn = Bias?.Grad.Reshape(Out, 1);
            BiasValueColumn = Bias?.Value.Reshape(Out, 1);
            if (kfac && Kind == StageKind.Linear) Kfac = new KroneckerFactors(device, In, Bias is not null, Out);
            if (!feedback) return;
            Tensor<T> Own(params int[] shape) { var t = device.Allocate<T>(shape); _owned.Add(t); return t; }
            WeightOld = Own(Out, In); MinvW = Own(Out, In); StepW = Own(Out, In); FeedbackW = Own(Out, In);
            MinvWColumn = MinvW.Reshape(Out * In, 1);
            if (Bias is null) return;
            BiasOld = Own(Out); BiasOldColumn = BiasOld.Reshape(Out, 1); MinvB = Own(Out); StepB = Own(Out); FeedbackB = Own(Out);
            FeedbackBRow = FeedbackB.Reshape(1, Out);
            MinvBColumn = MinvB.Reshape(Out, 1);
        }

        public StageKind Kind { get; }
        /// <summary>A convolution stage's geometry (default for the others).</summary>
        public Conv2dGeometry Conv { get; }
        /// <summary>A pooling stage's geometry (default for the others).</summary>
        public Pool2dGeometry Pool { get; }
        /// <summary>Features per sample of the stage's input and output (for a linear layer: In and Out).</summary>
        public int InputSize { get; }
        public int OutputSize { get; }
        public Parameter<T> Weight => _weight ?? throw new InvalidOperationException("a pooling stage has no weight");
        public Parameter<T>? Bias { get; }
        public Activation? Activation { get; }
        public int WeightIndex { get; }
        public int BiasIndex { get; }
        public int In { get; }
        public int Out { get; }
        public Tensor<T>? BiasGradRow { get; }
        public Tensor<T>? BiasGradColumn { get; }
        public Tensor<T>? BiasValueColumn { get; }
        /// <summary>K-FAC's factors of this layer (null for the other preconditioners).</summary>
        public KroneckerFactors? Kfac { get; }
        public Tensor<T>? WeightOld { get; }
        public Tensor<T>? BiasOld { get; }
        public Tensor<T>? BiasOldColumn { get; }
        public Tensor<T>? MinvW { get; }
        public Tensor<T>? MinvB { get; }
        /// <summary>Views of M⁻¹ as one column (a convolution's value factor is a GEMM with them).</summary>
        public Tensor<T>? MinvWColumn { get; }
        public Tensor<T>? MinvBColumn { get; }
        public Tensor<T>? StepW { get; }
        public Tensor<T>? StepB { get; }
        public Tensor<T>? FeedbackW { get; }
        public Tensor<T>? FeedbackB { get; }
        public Tensor<T>? FeedbackBRow { get; }

        public void Dispose()
        {
            foreach (var t in _owned) t.Dispose();
            _owned.Clear();
            Kfac?.Dispose();
        }
    }

    /// <summary>
    /// One layer's Kronecker factors (docs/math.md §6.2): A [in+1, in+1] (bias-augmented inputs) and G [out, out]
    /// (output gradients), their damped inverses, and the [out, in+1] matrices of the natural gradient.
    /// </summary>
    private sealed class KroneckerFactors : IDisposable
    {
        public KroneckerFactors(Device device, int inputs, bool bias, int outputs)
        {
            int augmented = inputs + (bias ? 1 : 0);
            A = device.Allocate<T>(augmented, augmented); AInverse = device.Allocate<T>(augmented, augmented);
            G = device.Allocate<T>(outputs, outputs); GInverse = device.Allocate<T>(outputs, outputs);
            Natural = device.Allocate<T>(outputs, augmented); Scratch = device.Allocate<T>(outputs, augmented);
            Status = device.Allocate<int>(1);
            NaturalWeight = Natural.SliceColumns(0, inputs);
            NaturalBias = bias ? Natural.SliceColumns(inputs, 1) : null;
        }

        public Tensor<T> A { get; }
        public Tensor<T> AInverse { get; }
        public Tensor<T> G { get; }
        public Tensor<T> GInverse { get; }
        /// <summary>[Q_W | Q_b], then (G + γI)⁻¹·[Q_W | Q_b]·(A + γI)⁻¹; reused for the feedback's product.</summary>
        public Tensor<T> Natural { get; }
        public Tensor<T> Scratch { get; }
        public Tensor<int> Status { get; }
        /// <summary>Views of <see cref="Natural"/>: the weight columns and the bias column (made once: a view is an object).</summary>
        public Tensor<T> NaturalWeight { get; }
        public Tensor<T>? NaturalBias { get; }

        public void Dispose()
        {
            A.Dispose(); AInverse.Dispose(); G.Dispose(); GInverse.Dispose(); Natural.Dispose(); Scratch.Dispose(); Status.Dispose();
        }
    }

    /// <summary>The per-sample tensors of a step for one batch size (index = stage; null where a stage needs none).</summary>
    private sealed class Workspace : IDisposable
    {
        private readonly List<Tensor<T>> _owned = [];

        /// <param name="prefix">Whether layers lie below stage 0 (an equilibrium model): stage 0 then needs V_x at its input and the feedback.</param>
        public Workspace(Device device, Stage[] stages, int rows, bool feedback, bool kfac, bool prefix)
        {
            Rows = rows;
            int count = stages.Length, classes = stages[^1].OutputSize;
            Tensor<T> Own(params int[] shape) { var t = device.Allocate<T>(shape); _owned.Add(t); return t; }
            Pre = new Tensor<T>[count]; Value = new Tensor<T>[count]; D = new Tensor<T>?[count]; G = new Tensor<T>?[count];
            H = new Tensor<T>?[count]; HUsed = new Tensor<T>?[count]; Vx = new Tensor<T>?[count]; Y = new Tensor<T>?[count];
            R = new Tensor<T>?[count]; Corr = new Tensor<T>?[count]; XSquared = new Tensor<T>?[count]; P = new Tensor<T>?[count];
            ScaledH = new Tensor<T>?[count]; XHat = new Tensor<T>?[count]; PreHat = new Tensor<T>?[count]; Dx = new Tensor<T>?[count];
            Z = new Tensor<T>?[count]; Beta = new Tensor<T>?[count];
            XBar = new Tensor<T>?[count]; XBarInputs = new Tensor<T>?[count]; HG = new Tensor<T>?[count]; XA = new Tensor<T>?[count];
            Conv = new ConvolutionWorkspace?[count];
            for (int t = 0; t < count; t++)
            {
                var s = stages[t];
                bool below = t > 0 || prefix;
                if (s.Kind == StageKind.Pool)
                {
                    // A pooling: its output, and (below the top) V_x, y and the new state at its input.
                    Pre[t] = Value[t] = Own(rows, s.OutputSize);
                    if (below) Vx[t] = Own(rows, s.InputSize);
                    if (feedback && below) { Y[t] = Own(rows, s.InputSize); XHat[t] = Own(rows, s.InputSize); }
                    continue;
                }
                if (s.Kind == StageKind.Conv)
                {
                    Pre[t] = Own(rows, s.OutputSize);
                    Value[t] = s.Activation is null ? Pre[t] : Own(rows, s.OutputSize);
                    if (s.Activation is not null) { D[t] = Own(rows, s.OutputSize); G[t] = Own(rows, s.OutputSize); }
                    if (below) Vx[t] = Own(rows, s.InputSize);
                    if (!feedback) continue;
                    H[t] = Own(rows, s.OutputSize); // also without an activation: the per-sample views read it
                    if (below)
                    {
                        Y[t] = Own(rows, s.InputSize); R[t] = Own(rows, s.OutputSize); Corr[t] = Own(rows, s.OutputSize);
                        ScaledH[t] = Own(rows, s.OutputSize); XHat[t] = Own(rows, s.InputSize); Dx[t] = Own(rows, s.InputSize);
                        Z[t] = Own(rows, s.OutputSize); Beta[t] = Own(rows, s.OutputSize);
                        var input = t > 0 ? Value[t - 1] : Own(rows, s.InputSize);
                        Conv[t] = new ConvolutionWorkspace(device, s, rows, input, t > 0 ? null : input, H[t]!, Own);
                    }
                    if (t < count - 1 && s.Activation is not null) PreHat[t] = Own(rows, s.OutputSize);
                    continue;
                }
                if (kfac && s.Bias is not null)
                {
                    // x̄ = (x, 1): the inputs are copied into the first columns each step; the ones column stays.
                    XBar[t] = Own(rows, s.In + 1);
                    XBarInputs[t] = XBar[t]!.SliceColumns(0, s.In);
                    device.Fill(XBar[t]!.SliceColumns(s.In, 1), T.One);
                }
                if (kfac && feedback && below) { HG[t] = Own(rows, s.Out); XA[t] = Own(rows, s.In + (s.Bias is null ? 0 : 1)); }
                Pre[t] = Own(rows, s.Out);
                Value[t] = s.Activation is null ? Pre[t] : Own(rows, s.Out);
                if (s.Activation is not null) { D[t] = Own(rows, s.Out); G[t] = Own(rows, s.Out); }
                if (below) Vx[t] = Own(rows, s.In);
                if (!feedback) continue;
                if (s.Activation is not null) H[t] = Own(rows, s.Out);
                if (below)
                {
                    Y[t] = Own(rows, s.In); R[t] = Own(rows, s.Out); Corr[t] = Own(rows, s.Out); XSquared[t] = Own(rows, s.In);
                    P[t] = Own(rows, s.Out); ScaledH[t] = Own(rows, s.Out); XHat[t] = Own(rows, s.In); Dx[t] = Own(rows, s.In);
                    Z[t] = Own(rows, s.Out); Beta[t] = Own(rows, s.Out);
                }
                if (t < count - 1 && s.Activation is not null) PreHat[t] = Own(rows, s.Out);
            }
            Logits = Value[count - 1];
            LogitGrad = Own(rows, classes);
            YTop = Own(rows, classes);
            Losses = Own(rows);
            LossRow = Losses.Reshape(1, rows);
            LossValue = Own(1);
            OnesRow = Own(1, rows);
            device.Fill(OnesRow, T.One);
            Factor = Own(rows);
            Zeros = Own(rows);
            device.Fill(Zeros, T.Zero);
        }

        /// <summary>The per-sample tensors of a convolution stage's value factor (null for the other stages).</summary>
        public ConvolutionWorkspace?[] Conv { get; }

        public int Rows { get; }
        public Tensor<T>[] Pre { get; }
        public Tensor<T>[] Value { get; }
        public Tensor<T>?[] D { get; }
        public Tensor<T>?[] G { get; }
        public Tensor<T>?[] H { get; }
        /// <summary>The h = σ′ ⊙ y each stage used in the backward pass (H, or the incoming y for a stage without activation).</summary>
        public Tensor<T>?[] HUsed { get; }
        public Tensor<T>?[] Vx { get; }
        public Tensor<T>?[] Y { get; }
        public Tensor<T>?[] R { get; }
        public Tensor<T>?[] Corr { get; }
        public Tensor<T>?[] XSquared { get; }
        public Tensor<T>?[] P { get; }
        public Tensor<T>?[] ScaledH { get; }
        public Tensor<T>?[] XHat { get; }
        public Tensor<T>?[] PreHat { get; }
        public Tensor<T>?[] Dx { get; }
        public Tensor<T>?[] Z { get; }
        public Tensor<T>?[] Beta { get; }
        /// <summary>K-FAC: the bias-augmented inputs x̄ = (x, 1) of each stage with a bias (null: x itself).</summary>
        public Tensor<T>?[] XBar { get; }
        /// <summary>The view of x̄'s first columns that the inputs are copied into.</summary>
        public Tensor<T>?[] XBarInputs { get; }
        /// <summary>K-FAC with feedback: h·G⁻¹ and x̄·A⁻¹ per sample (the value factor's quadratic forms).</summary>
        public Tensor<T>?[] HG { get; }
        public Tensor<T>?[] XA { get; }
        public Tensor<T> Logits { get; }
        public Tensor<T> LogitGrad { get; }
        public Tensor<T> YTop { get; }
        public Tensor<T> Losses { get; }
        public Tensor<T> LossRow { get; }
        public Tensor<T> LossValue { get; }
        public Tensor<T> OnesRow { get; }
        public Tensor<T> Factor { get; }
        public Tensor<T> Zeros { get; }

        public void Dispose()
        {
            foreach (var t in _owned) t.Dispose();
            _owned.Clear();
        }
    }

    /// <summary>
    /// A convolution stage's per-sample value factor (docs/math.md §6.8): row views of its input and of h, one [out, in·k·k]
    /// view per sample into the per-sample weight gradients, the per-sample bias gradients (h's pixel sums), and
    /// q_uᵀM⁻¹q_u per sample. The views are made once (a view is an object).
    /// </summary>
    private sealed class ConvolutionWorkspace
    {
        public ConvolutionWorkspace(Device device, Stage s, int rows, Tensor<T> input, Tensor<T>? inputCopy, Tensor<T> h, Func<int[], Tensor<T>> own)
        {
            InputCopy = inputCopy;
            PerSampleWeight = own([rows, s.Out * s.In]);
            InputRows = new Tensor<T>[rows]; HRows = new Tensor<T>[rows]; WeightGradients = new Tensor<T>[rows];
            for (int n = 0; n < rows; n++)
            {
                InputRows[n] = input.Slice(n, 1);
                HRows[n] = h.Slice(n, 1);
                WeightGradients[n] = PerSampleWeight.Slice(n, 1).Reshape(s.Out, s.In);
            }
            Quadratic = own([rows, 1]);
            OnesColumn = own([rows, 1]);
            device.Fill(OnesColumn, T.One);
            if (s.Bias is null) return;
            PerSampleBias = own([rows, s.Out]);
            PerSampleBiasFlat = PerSampleBias.Reshape(rows * s.Out);
            HChannels = h.Reshape(rows * s.Out, s.Conv.OutPixels);
        }

        /// <summary>Where the stage's input is copied when it is not a tensor of the workspace (stage 0 on an equilibrium model: z*).</summary>
        public Tensor<T>? InputCopy { get; }
        public Tensor<T>[] InputRows { get; }
        public Tensor<T>[] HRows { get; }
        /// <summary>[batch, out·in·k·k]: row n is q_u's weight part for sample n (then squared in place).</summary>
        public Tensor<T> PerSampleWeight { get; }
        public Tensor<T>[] WeightGradients { get; }
        public Tensor<T>? PerSampleBias { get; }
        public Tensor<T>? PerSampleBiasFlat { get; }
        /// <summary>h as [batch·out channels, pixels]: its row sums are the per-sample bias gradients.</summary>
        public Tensor<T>? HChannels { get; }
        public Tensor<T> Quadratic { get; }
        public Tensor<T> OnesColumn { get; }
    }
}
