using OptEq.Solvers;
using OptEq.Solvers.Maps;
using OptEq.Solvers.Operators;

namespace OptEq.Autodiff;

public static partial class Ops
{
    /// <summary>
    /// The OptEq equilibrium with a structured W (docs/math.md §1.7): z* = σ(WᵀW z* + c) for every row of c, W the
    /// operator <paramref name="root"/> builds on the weights' values (a convolution, a multi-tier block operator).
    /// The forward solve records nothing; the backward rule is one adjoint solve (CG applies: the adjoint is symmetric),
    /// u = J ⊙ w, then dc += u and, for W's weights, the gradient of ⟨u, WᵀW z*⟩ = ⟨W u, W z*⟩:
    /// ∂/∂θ = (∂(W u)/∂θ)ᵀ(W z*) + (∂(W z*)/∂θ)ᵀ(W u), which the operator gives from two weight-gradient calls.
    /// <paramref name="spec"/>.SymmetricRho must be ρ ≥ ||W||₂² (the reparameterisation's bound). <paramref name="metric"/>
    /// chooses how the map applies WᵀW in the solves (given W and the batch; default: W then Wᵀ, <see cref="GramOperator{T}"/>);
    /// its <see cref="IGramOperator{T}.Refresh"/> runs once per forward pass, before the solve. The weight gradient always
    /// uses W itself (W u, W z*), so it is exact whichever metric the solves used.
    /// </summary>
    public static Variable<T> OperatorEquilibrium<T>(IReadOnlyList<Variable<T>> weights, Func<IReadOnlyList<Tensor<T>>, IParameterisedOperator<T>> root,
        Variable<T> injection, EquilibriumSpec spec, Tensor<T>? initialState = null, EquilibriumReport? report = null,
        Func<IParameterisedOperator<T>, int, IGramOperator<T>>? metric = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(spec);
        if (weights.Count == 0) throw new ArgumentException("an operator equilibrium needs the operator's weights");
        var tape = injection.Tape;
        foreach (var weight in weights) TapeOf(weight, injection);
        if (spec.SymmetricRho is not double rho)
            throw new ArgumentException("an operator equilibrium is an OptEq map σ(WᵀW z + c): the spec needs ρ ≥ ||W||₂² (SymmetricRho)");
        var backward = spec.Backward;
        if (backward.Mode == BackwardMode.Unrolled)
            throw new NotSupportedException("the unrolled backward mode is not available for convolutional equilibria; use implicit-cg, implicit-anderson, jacobian-free or phantom");
        var device = tape.Device;
        int batch = injection.Shape[0], d = injection.Shape[1];
        var values = new Tensor<T>[weights.Count];
        for (int i = 0; i < values.Length; i++) values[i] = weights[i].Value;
        var w = root(values);
        if (w.InputSize != d) throw new ShapeException($"operator equilibrium: W takes {w.InputSize} features, the injection has {d}");
        var map = metric is null
            ? new OperatorOptEqMap<T>(spec.Activation, w, injection.Value, rho)
            : OperatorOptEqMap<T>.WithMetric(spec.Activation, metric(w, batch), injection.Value, rho);
        tape.Own(map);
        var z0 = initialState ?? tape.Zeros(batch, d);
        var value = tape.Rent(batch, d);
        var solve = new LastSolve<T>();
        tape.Own(solve);
        tape.Compute(() =>
        {
            map.Metric.Refresh(); // W's weights are rewritten every forward (W = γV/σ): once here, not per iteration
            solve.Replace(SolverRegistry.Solve(map, z0, report is { RecordTrace: true } ? spec.Forward with { RecordTrace = true } : spec.Forward));
            device.Copy(solve.Result!.Solution, value);
            if (report is not null) ReportForward(report, solve.Result!);
        });
        var inputs = new Variable<T>[weights.Count + 1];
        for (int i = 0; i < weights.Count; i++) inputs[i] = weights[i];
        inputs[^1] = injection;
        var y = tape.Result(value, inputs);
        Tensor<T>[]? gradients = null; // the weights' gradient buffers (a scratch for a weight without one), made once
        tape.Record(y, () =>
        {
            map.PrepareAdjoint(value);
            var g = y.GradBuffer;
            var adjoint = tape.Rent(batch, d);
            AdjointBackward.Solve(backward, map, g, adjoint, tape, report);
            var u = tape.Rent(batch, d);
            device.Map(new ProductOp<T>(), u, map.Jacobian, adjoint);
            if (injection.RequiresGrad) Accumulate(injection.GradBuffer, u);
            bool any = false;
            for (int i = 0; i < weights.Count; i++) any |= weights[i].RequiresGrad; // no enumerator: this runs every replayed step
            if (!any) return;
            if (gradients is null)
            {
                gradients = new Tensor<T>[weights.Count];
                for (int i = 0; i < gradients.Length; i++) gradients[i] = weights[i].RequiresGrad ? weights[i].GradBuffer : tape.Rent(weights[i].Shape);
            }
            var wz = tape.Rent(batch, w.OutputSize);
            var wu = tape.Rent(batch, w.OutputSize);
            w.Apply(value, wz, T.Zero);
            w.Apply(u, wu, T.Zero);
            w.AccumulateWeightGradients(u, wz, gradients);
            w.AccumulateWeightGradients(value, wu, gradients);
        });
        return y;
    }
}
