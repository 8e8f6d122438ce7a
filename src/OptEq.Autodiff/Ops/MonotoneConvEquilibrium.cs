using OptEq.Solvers;
using OptEq.Solvers.Maps;

namespace OptEq.Autodiff;

/// <summary>
/// The persistent state of a monotone conv layer's step-size rule: the power-iteration vector for ||I − W||₂ (warm-started
/// across training steps), its scratch, and the latest estimate.
/// </summary>
public sealed class MonotoneStepState<T> : IDisposable where T : unmanaged, IFloatingPointIeee754<T>
{
    public MonotoneStepState(Device device, int dimension, int seed = 0)
    {
        var rng = new Random(seed);
        var v = new T[dimension];
        double norm = 0;
        for (int i = 0; i < dimension; i++) { double x = rng.NextDouble() - 0.5; v[i] = T.CreateChecked(x); norm += x * x; }
        for (int i = 0; i < dimension; i++) v[i] /= T.CreateChecked(Math.Sqrt(norm));
        Vector = device.FromArray(v, 1, dimension);
        First = device.Allocate<T>(1, dimension);
        Second = device.Allocate<T>(1, dimension);
        Norm = device.Allocate<T>(1);
    }

    /// <summary>Power steps per forward pass (2 in training, where the weights move slowly; more for exact checks).</summary>
    public int StepsPerForward { get; set; } = 2;
    /// <summary>The latest estimate L̂ of ||I − W||₂ (from below), and the step scale m/L̂² it gave.</summary>
    public double Lipschitz { get; internal set; } = double.NaN;
    public double StepScale { get; internal set; } = double.NaN;
    internal Tensor<T> Vector { get; }
    internal Tensor<T> First { get; }
    internal Tensor<T> Second { get; }
    internal Tensor<T> Norm { get; }

    public void Dispose() { Vector.Dispose(); First.Dispose(); Second.Dispose(); Norm.Dispose(); }
}

public static partial class Ops
{
    /// <summary>
    /// z* = σ(W z* + c) with W z = (1 − m)z − Aᵀ(A z) + B z − Bᵀ z, A and B convolutions of <paramref name="geometry"/>
    /// ([C, C·k·k]), c [batch, C·H·W] (docs/math.md §3.1). Before each solve the step scale m/L̂² is refreshed from a
    /// warm-started power iteration (<paramref name="step"/>), so forward–backward's α is relative to the safe step.
    /// The backward rule: w from the adjoint solve of w = Wᵀ(J ⊙ w) + g, u = J ⊙ w, then dc += u,
    /// dA −= Kw(u, A z*) + Kw(z*, A u), dB += Kw(z*, u) − Kw(u, z*) (Kw: the convolution's weight gradient).
    /// </summary>
    public static Variable<T> MonotoneConvEquilibrium<T>(Variable<T> a, Variable<T> b, Variable<T> injection, Conv2dGeometry geometry, double margin,
        EquilibriumSpec spec, MonotoneStepState<T> step, EquilibriumReport? report = null) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tape = TapeOf(a, b);
        _ = TapeOf(a, injection);
        var device = tape.Device;
        int batch = injection.Shape[0], d = injection.Shape[1];
        if (spec.Backward.Mode == BackwardMode.Unrolled)
            throw new ArgumentException("conv-mon has no unrolled backward; use implicit, jacobian-free or phantom");
        var map = new MonotoneConvMap<T>(spec.Activation, geometry, a.Value, b.Value, margin, injection.Value);
        tape.Own(map);
        var z0 = tape.Zeros(batch, d);
        var value = tape.Rent(batch, d);
        var solve = new LastSolve<T>();
        tape.Own(solve);
        tape.Compute(() =>
        {
            double lipschitz = MonotoneConvMap<T>.LipschitzEstimate(geometry, a.Value, b.Value, margin, step.Vector, step.First, step.Second, step.Norm, step.StepsPerForward);
            // L ≥ m always (the symmetric part of I − W is ⪰ mI), so a smaller estimate is an unconverged first step.
            lipschitz = Math.Max(lipschitz, margin);
            step.Lipschitz = lipschitz;
            step.StepScale = margin / (lipschitz * lipschitz);
            map.StepScale = step.StepScale;
            solve.Replace(SolverRegistry.Solve(map, z0, report is { RecordTrace: true } ? spec.Forward with { RecordTrace = true } : spec.Forward));
            var forward = solve.Result!;
            device.Copy(forward.Solution, value);
            if (report is not null) ReportForward(report, forward);
        });
        var y = tape.Result(value, a, b, injection);
        tape.Record(y, () =>
        {
            map.PrepareAdjoint(value);
            var w = tape.Rent(batch, d);
            AdjointBackward.Solve(spec.Backward, map, y.GradBuffer, w, tape, report);
            var u = tape.Rent(batch, d);
            device.Map(new ProductOp<T>(), u, map.Jacobian, w);
            if (injection.RequiresGrad) Accumulate(injection.GradBuffer, u);
            map.AccumulateWeightGradients(u, value, a.RequiresGrad ? a.GradBuffer : null, b.RequiresGrad ? b.GradBuffer : null);
        });
        return y;
    }
}
