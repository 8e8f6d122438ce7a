using OptEq.Autodiff.Layers;

namespace OptEq.Autodiff.Optimizers.Ddpn;

/// <summary>
/// The layers of an equilibrium model below its explicit head (the input injection and the equilibrium, e.g. an OptEq
/// layer), run on a tape for DDPNOpt (docs/math.md §6.7): the forward gives the head's input z*; the backward is the
/// tape's own (the implicit adjoint) seeded with DDPNOpt's value gradient V_x at z*, so the injection's and the
/// equilibrium's weights receive Q_u = (∂z*/∂u)ᵀ·V_x and are stepped by the base optimizer; a second, inference-only
/// forward at the updated weights gives ẑ*, the new state at the head's input. On a model whose step can be replayed
/// the tapes are captured once per batch size and replayed (nothing allocated after the first step); otherwise each
/// step records fresh tapes.
/// </summary>
internal sealed class DdpnImplicitPrefix<T> : IDisposable where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Device _device;
    private readonly ILayer<T>[] _layers;
    private readonly bool _replay;
    private readonly Dictionary<int, Capture> _captures = [];
    private Capture? _eager; // a non-replayable model's tapes of the current step

    public DdpnImplicitPrefix(Device device, ILayer<T>[] layers)
    {
        _device = device;
        _layers = layers;
        _replay = layers.All(l => l.SupportsReplay);
    }

    public IEnumerable<Parameter<T>> Parameters() => _layers.SelectMany(l => l.Parameters());

    /// <summary>
    /// Forward to z*, then <paramref name="head"/> (which reads z* and returns V_x at z*), then the backward seeded with it;
    /// the prefix's parameter gradients are accumulated. Returns z* (valid until <see cref="EndStep"/>).
    /// </summary>
    public Tensor<T> ForwardAndBackward(Tensor<T> images, Func<Tensor<T>, Tensor<T>> head)
    {
        if (!_replay)
        {
            EndStep();
            var eager = _eager = new Capture(_device, images.Shape[0], images.Shape[1], replay: false);
            _device.Copy(images, eager.Input);
            eager.Record(_layers);
            eager.Tape.Backward(eager.Output!, head(eager.Output!.Value));
            return eager.Output.Value;
        }
        int n = images.Shape[0];
        if (!_captures.TryGetValue(n, out var c))
        {
            _captures[n] = c = new Capture(_device, n, images.Shape[1], replay: true);
            _device.Copy(images, c.Input);
            c.Record(_layers);
            c.Tape.Backward(c.Output!, head(c.Output!.Value));
            return c.Output.Value;
        }
        _device.Copy(images, c.Input);
        c.Head = head;
        c.Tape.ReplaySeeded(c.Output!, c.SeedAfterForward);
        return c.Output!.Value;
    }

    /// <summary>ẑ*: the prefix's forward at the current (updated) weights on this step's images (valid until <see cref="EndStep"/>).</summary>
    public Tensor<T> ForwardAtNewWeights(int rows)
    {
        var c = _replay ? _captures[rows] : _eager!;
        if (c.Inference is null)
        {
            c.Inference = _replay ? Tape<T>.ForInferenceReplay(_device) : Tape<T>.NoGrad(_device);
            var x = c.Inference.Constant(c.Input);
            foreach (var layer in _layers) x = layer.Forward(x);
            c.InferenceOutput = x;
        }
        else c.Inference.ReplayForward();
        return c.InferenceOutput!.Value;
    }

    /// <summary>Releases a non-replayable step's tapes (a replayable model keeps its captures).</summary>
    public void EndStep()
    {
        _eager?.Dispose();
        _eager = null;
    }

    public void Dispose()
    {
        EndStep();
        foreach (var c in _captures.Values) c.Dispose();
        _captures.Clear();
    }

    private sealed class Capture : IDisposable
    {
        public Capture(Device device, int rows, int inputs, bool replay)
        {
            Input = device.Allocate<T>(rows, inputs);
            Tape = replay ? Tape<T>.ForReplay(device) : new Tape<T>(device);
            SeedAfterForward = () => Head!(Output!.Value); // made once: the replay passes it without allocating
        }

        public Tensor<T> Input { get; }
        public Tape<T> Tape { get; }
        public Variable<T>? Output { get; private set; }
        public Func<Tensor<T>, Tensor<T>>? Head { get; set; }
        public Func<Tensor<T>> SeedAfterForward { get; }
        public Tape<T>? Inference { get; set; }
        public Variable<T>? InferenceOutput { get; set; }

        public void Record(ILayer<T>[] layers)
        {
            var x = Tape.Constant(Input);
            foreach (var layer in layers) x = layer.Forward(x);
            Output = x;
        }

        public void Dispose()
        {
            Inference?.Dispose();
            Tape.Dispose();
            Input.Dispose();
        }
    }
}
