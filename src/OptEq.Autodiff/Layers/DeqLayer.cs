using OptEq.Solvers;

namespace OptEq.Autodiff.Layers;

/// <summary>
/// A generic deep equilibrium layer z* = T(z*, x) where T is any function written with the tape's ops (parameters
/// enter through <c>z.Tape.Param(p)</c>). The forward solve evaluates T on no-grad tapes; the backward pass records
/// T(z*, x) once on the outer tape and feeds it the adjoint w (solved with vector–Jacobian products of T), so the
/// parameters and x receive wᵀ∂T/∂θ and wᵀ∂T/∂x. Flexible rather than fast: each map evaluation builds a small tape.
/// </summary>
public sealed class DeqLayer<T> : IEquilibriumLayer<T>, IDisposable where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Func<Variable<T>, Variable<T>, Variable<T>> _body;
    private readonly Parameter<T>[] _parameters;
    private readonly bool _ownsParameters;

    public DeqLayer(Func<Variable<T>, Variable<T>, Variable<T>> body, IEnumerable<Parameter<T>> parameters, int hidden,
        SolverOptions? forward = null, BackwardOptions? backward = null, bool ownsParameters = false)
    {
        _body = body;
        _parameters = parameters.ToArray();
        _ownsParameters = ownsParameters;
        Hidden = hidden;
        ForwardOptions = forward ?? new SolverOptions { Solver = ForwardSolvers.Anderson, MaxIterations = 50, Tolerance = 1e-4 };
        BackwardOptions = backward ?? new BackwardOptions { Adjoint = AdjointSolvers.Anderson };
        if (BackwardOptions.Mode == BackwardMode.Implicit && BackwardOptions.Adjoint.Requires != AdjointStructure.None)
            throw new ArgumentException($"a generic DEQ has no symmetric adjoint, which {BackwardOptions.Adjoint.Name} needs: use the fixed-point or anderson adjoint");
    }

    public int Hidden { get; }
    public SolverOptions ForwardOptions { get; }
    public BackwardOptions BackwardOptions { get; }
    public EquilibriumReport Report { get; } = new();
    /// <summary>Its solve runs eagerly, outside the tape; only the unrolled mode is all tape ops.</summary>
    public bool SupportsReplay => BackwardOptions.Mode == BackwardMode.Unrolled;

    /// <summary>
    /// The built-in DEQ map T(z, x) = σ(z·Wᵀ + x·Uᵀ + b) with W scaled to ||W||_F = γ, a user-style map written with tape
    /// ops; the layer owns W, U and b (named name.W, name.U, name.b).
    /// </summary>
    public static DeqLayer<T> Affine(Device device, string name, int input, int hidden, Random rng, Kernels.Activations.Activation activation, double gamma,
        SolverOptions? forward = null, BackwardOptions? backward = null)
    {
        var w = new Parameter<T>($"{name}.W", Init.Uniform<T>(device, rng, 1 / Math.Sqrt(hidden), hidden, hidden));
        var u = new Parameter<T>($"{name}.U", Init.Uniform<T>(device, rng, 1 / Math.Sqrt(input), hidden, input));
        var b = new Parameter<T>($"{name}.b", Init.Uniform<T>(device, rng, 1 / Math.Sqrt(input), hidden)) { NoWeightDecay = true };
        return new DeqLayer<T>((z, x) =>
        {
            var tape = z.Tape;
            var scaled = Ops.ScaleToNorm(tape.Param(w), gamma, NormKind.Frobenius);
            return Ops.Activate(Ops.Add(Ops.MatMul(z, scaled, transB: true), Ops.Affine(x, tape.Param(u), tape.Param(b))), activation);
        }, [w, u, b], hidden, forward, backward, ownsParameters: true);
    }

    public Variable<T> Forward(Variable<T> x)
    {
        var tape = x.Tape;
        var device = tape.Device;
        int batch = x.Shape[0];
        if (BackwardOptions.Mode == BackwardMode.Unrolled)
        {
            // k recorded steps of T from zero, no solver: exact for that function.
            var unrolled = tape.Constant(tape.Zeros(batch, Hidden));
            for (int i = 0; i < BackwardOptions.Steps; i++) unrolled = _body(unrolled, x);
            Report.ForwardIterations = BackwardOptions.Steps;
            return unrolled;
        }
        if (tape.IsReplayable)
            throw new NotSupportedException("a generic DeqLayer solves eagerly and cannot be replayed; record it on a tape made with new Tape<T>(device), or use the unrolled mode");
        var map = new FunctionMap(this, x.Value, device, batch);
        using var z0 = device.Allocate<T>(batch, Hidden);
        var forward = SolverRegistry.Solve(map, z0, Report.RecordTrace ? ForwardOptions with { RecordTrace = true } : ForwardOptions);
        tape.Own(forward);
        Report.ForwardIterations = forward.Iterations;
        Report.ForwardMeanIterations = forward.MeanIterations;
        Report.ForwardMaxRelResidual = forward.RelResidual.Max();
        Report.ForwardConverged = forward.ConvergedFraction;
        Report.ForwardNonFinite = forward.Status.Count(s => s == SampleStatus.NonFinite);
        Report.ForwardTrace = forward.TraceRel;
        var zStar = tape.Constant(forward.Solution);
        // T(z*, x) on the outer tape, recorded before the output node so that its backward runs after the adjoint.
        var recorded = _body(zStar, x);
        var y = tape.Result(forward.Solution, recorded);
        tape.Record(y, () =>
        {
            map.PrepareAdjoint(forward.Solution);
            var g = y.GradBuffer;
            var w = tape.Rent(batch, Hidden);
            AdjointBackward.Solve(BackwardOptions, map, g, w, tape, Report);
            Ops.Accumulate(recorded.GradBuffer, w);
        });
        return y;
    }

    public IEnumerable<Parameter<T>> Parameters() => _parameters;

    public void Dispose()
    {
        if (_ownsParameters) foreach (var p in _parameters) p.Dispose();
    }

    /// <summary>T(·, x) as a solver map, and its vector–Jacobian products at z* through a recorded tape.</summary>
    private sealed class FunctionMap(DeqLayer<T> layer, Tensor<T> x, Device device, int batch) : IFixedPointMap<T>, IAdjointMap<T>
    {
        private Tensor<T>? _equilibrium;

        public Device Device => device;
        public int Batch => batch;
        public int Dimension => layer.Hidden;

        public void Apply(Tensor<T> z, Tensor<T> result)
        {
            using var tape = Tape<T>.NoGrad(device);
            var output = layer._body(tape.Constant(z), tape.Constant(x));
            device.Copy(output.Value, result);
        }

        public void PrepareAdjoint(Tensor<T> equilibrium) => _equilibrium = equilibrium;

        public void VectorJacobianProduct(Tensor<T> w, Tensor<T> result)
        {
            using var tape = new Tape<T>(device) { ParametersAsConstants = true };
            var z = tape.Leaf(_equilibrium ?? throw new InvalidOperationException("PrepareAdjoint first"));
            var output = layer._body(z, tape.Constant(x));
            tape.Backward(output, w);
            if (z.Grad is null) device.Fill(result, T.Zero); else device.Copy(z.Grad, result);
        }
    }
}
