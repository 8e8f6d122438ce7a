using OptEq.Autodiff.Layers;
using OptEq.Solvers;

namespace OptEq.Autodiff.Models;

/// <summary>
/// An equilibrium body followed by a linear head (except idl, which is a whole implicit model ŷ = Cx + Du), built from a
/// <see cref="ModelConfig"/>. Parameter names are stable: they key the checkpoint.
/// </summary>
public sealed class Classifier<T> : IModule<T>, IDisposable where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly ILayer<T> _body;
    private readonly Linear<T>? _head;
    private readonly List<IDisposable> _owned = new();
    private readonly Parameter<T>[] _extra = [];

    public Classifier(Device device, ModelConfig config)
    {
        config.Validate();
        Config = config;
        var rng = new Random(config.Seed);
        var forward = config.ForwardOptions;
        var backward = config.BackwardOptions;
        // CG needs the symmetric OptEq adjoint; the other equilibria fall back to Anderson for the same request.
        var generalBackward = backward.Adjoint == AdjointKind.ConjugateGradient ? backward with { Adjoint = AdjointKind.Anderson } : backward;
        var activation = config.ParsedActivation;
        int features;
        switch (config.Model)
        {
            case "opteq":
                var opteq = new OptEqLayer<T>(device, "opteq", new OptEqLayerOptions
                {
                    Input = config.Input, Hidden = config.Hidden, Activation = activation, Gamma = config.Gamma, Norm = config.ParsedNorm,
                    Forward = forward, Backward = backward,
                }, rng);
                (_body, Report, features) = (opteq, opteq.Report, config.Hidden);
                _owned.Add(opteq);
                break;
            case "deep-opteq":
                var deep = new DeepOptEqLayer<T>(device, "deep", config.Input, config.Tiers, rng, activation, config.Gamma, config.ParsedNorm, false, forward, backward);
                (_body, Report, features) = (deep, deep.Report, deep.OutputSize);
                _owned.Add(deep);
                break;
            case "idl":
                var idl = new ImplicitLayer<T>(device, "idl", config.Input, config.Hidden, config.Classes, rng, activation, config.Gamma, forward, generalBackward);
                (_body, Report, features) = (idl, idl.Report, 0);
                _owned.Add(idl);
                break;
            case "mon":
                var mon = new MonotoneLayer<T>(device, "mon", config.Input, config.Hidden, rng, activation, 1 - config.Gamma, forward, generalBackward);
                (_body, Report, features) = (mon, mon.Report, config.Hidden);
                _owned.Add(mon);
                break;
            default: // deq: T(z, x) = σ(z·Wᵀ + x·Uᵀ + b) with W scaled to ||W||_F = γ, a user-style map written with tape ops
                var w = new Parameter<T>("deq.W", Init.Uniform<T>(device, rng, 1 / Math.Sqrt(config.Hidden), config.Hidden, config.Hidden));
                var u = new Parameter<T>("deq.U", Init.Uniform<T>(device, rng, 1 / Math.Sqrt(config.Input), config.Hidden, config.Input));
                var b = new Parameter<T>("deq.b", Init.Uniform<T>(device, rng, 1 / Math.Sqrt(config.Input), config.Hidden)) { NoWeightDecay = true };
                _extra = [w, u, b];
                var deq = new DeqLayer<T>((z, x) =>
                {
                    var tape = z.Tape;
                    var scaled = Ops.ScaleToNorm(tape.Param(w), config.Gamma, NormKind.Frobenius);
                    return Ops.Activate(Ops.Add(Ops.MatMul(z, scaled, transB: true), Ops.Affine(x, tape.Param(u), tape.Param(b))), activation);
                }, _extra, config.Hidden, forward, generalBackward);
                (_body, Report, features) = (deq, deq.Report, config.Hidden);
                SupportsReplay = generalBackward.Mode == BackwardMode.Unrolled; // its solve runs eagerly (see DeqLayer)
                break;
        }
        if (features > 0)
        {
            _head = new Linear<T>(device, "head", features, config.Classes, rng);
            _owned.Add(_head);
        }
    }

    public ModelConfig Config { get; }
    /// <summary>The equilibrium layer (OptEqLayer, DeepOptEqLayer, ImplicitLayer, MonotoneLayer or DeqLayer).</summary>
    public ILayer<T> Body => _body;
    /// <summary>Solver statistics of the last forward and backward pass of the equilibrium body.</summary>
    public EquilibriumReport Report { get; }
    /// <summary>Whether a training step of this model can be captured on a replayable tape (all but the generic DEQ's solve).</summary>
    public bool SupportsReplay { get; } = true;

    /// <summary>Logits [batch, classes] for an input batch [batch, input].</summary>
    public Variable<T> Forward(Variable<T> x)
    {
        var features = _body.Forward(x);
        return _head is null ? features : _head.Forward(features);
    }

    public IEnumerable<Parameter<T>> Parameters() => _head is null ? _body.Parameters() : _body.Parameters().Concat(_head.Parameters());

    public long ParameterCount => Parameters().Sum(p => p.Length);

    public void Dispose()
    {
        foreach (var o in _owned) o.Dispose();
        foreach (var p in _extra) p.Dispose();
    }
}
