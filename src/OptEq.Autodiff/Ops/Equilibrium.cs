using OptEq.Kernels.Activations;
using OptEq.Solvers;
using OptEq.Solvers.Maps;

namespace OptEq.Autodiff;

/// <summary>
/// What the last forward and backward solves of an implicit layer did (for progress bars and reports). The per-sample
/// arrays are the solver result's own, which the device pool reuses: the next solve overwrites them, so copy them to keep them.
/// </summary>
public sealed class EquilibriumReport
{
    public int ForwardIterations { get; internal set; }
    public double ForwardMeanIterations { get; internal set; }
    public double ForwardMaxRelResidual { get; internal set; }
    public double ForwardConverged { get; internal set; }
    /// <summary>Samples whose forward solve met a NaN or infinity (their answer is their initial state; a trainer must stop).</summary>
    public int ForwardNonFinite { get; internal set; }
    public double[,]? ForwardTrace { get; internal set; }
    /// <summary>Per-sample results of the last forward solve: iterations, relative residual, and for OptEq the
    /// certificate bound on ||z − z*|| and the objective G.</summary>
    public int[] ForwardSampleIterations { get; internal set; } = [];
    public double[] ForwardRelResidual { get; internal set; } = [];
    public double[]? ForwardDistanceBound { get; internal set; }
    public double[]? ForwardObjective { get; internal set; }
    public double BackwardMeanIterations { get; internal set; }
    public double BackwardMaxRelResidual { get; internal set; }
    public double[,]? BackwardTrace { get; internal set; }
    /// <summary>Ask the next solves for per-iteration residual traces (ForwardTrace, BackwardTrace). Off by default:
    /// a trace is copied to new host arrays on every solve, so only a caller that plots one turns it on.</summary>
    public bool RecordTrace { get; set; }
}

/// <summary>Describes one equilibrium z = σ(z·Kᵀ + c): the activation, whether K is a symmetric PSD OptEq metric (with ρ), the solvers.</summary>
public sealed record EquilibriumSpec
{
    public required Activation Activation { get; init; }
    /// <summary>ρ = ||W||₂² when K = WᵀW (OptEq): enables the objective, FISTA, the certificate and the CG adjoint. Null otherwise.</summary>
    public double? SymmetricRho { get; init; }
    public SolverOptions Forward { get; init; } = new() { Solver = ForwardSolvers.Anderson, MaxIterations = 50, Tolerance = 1e-4 };
    public BackwardOptions Backward { get; init; } = new();
}

/// <summary>The latest forward solve of an equilibrium op, kept until the next one (a replay) or the tape's end.</summary>
internal sealed class LastSolve<T> : IDisposable where T : unmanaged
{
    public SolverResult<T>? Result { get; private set; }

    public void Replace(SolverResult<T> result)
    {
        Result?.Dispose(); // back to the pool, where the new solve's result may already have come from
        Result = result;
    }

    public void Dispose() => Result?.Dispose();
}

public static partial class Ops
{
    /// <summary>
    /// z* = σ(z*·Kᵀ + c) for every row of c [batch, d], K [d, d]. The forward solve records nothing on the tape (memory
    /// does not grow with iterations); one backward rule applies the chosen backward mode (docs/math.md §1.6):
    /// u = J ⊙ w with w the adjoint, then dc += u and dK += uᵀ z*.
    /// </summary>
    public static Variable<T> Equilibrium<T>(Variable<T> weight, Variable<T> injection, EquilibriumSpec spec, Tensor<T>? initialState = null, EquilibriumReport? report = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tape = TapeOf(weight, injection);
        var device = tape.Device;
        int batch = injection.Shape[0], d = injection.Shape[1];
        var backward = spec.Backward;
        if (backward.Mode == BackwardMode.Unrolled)
        {
            // k recorded steps of T from zero: the tape differentiates them exactly; no solver runs.
            var z = tape.Constant(initialState ?? tape.Zeros(batch, d));
            for (int i = 0; i < backward.Steps; i++)
                z = Activate(Add(MatMul(z, weight, transB: true), injection), spec.Activation);
            if (report is not null) report.ForwardIterations = backward.Steps;
            return z;
        }
        AffineActivationMap<T> map = spec.SymmetricRho is double rho
            ? new OptEqMap<T>(spec.Activation, weight.Value, injection.Value, rho)
            : new AffineActivationMap<T>(spec.Activation, weight.Value, injection.Value);
        tape.Own(map);
        var z0 = initialState ?? tape.Zeros(batch, d);
        var value = tape.Rent(batch, d);
        var solve = new LastSolve<T>();
        tape.Own(solve);
        tape.Compute(() =>
        {
            solve.Replace(SolverRegistry.Solve(map, z0, report is { RecordTrace: true } ? spec.Forward with { RecordTrace = true } : spec.Forward));
            var forward = solve.Result!;
            device.Copy(forward.Solution, value);
            if (report is not null) ReportForward(report, forward);
        });
        var y = tape.Result(value, weight, injection);
        tape.Record(y, () =>
        {
            map.PrepareAdjoint(value);
            var g = y.GradBuffer;
            var w = tape.Rent(batch, d);
            AdjointBackward.Solve(backward, map, g, w, tape, report);
            var u = tape.Rent(batch, d);
            device.Map(new ProductOp<T>(), u, map.Jacobian, w);
            if (injection.RequiresGrad) Accumulate(injection.GradBuffer, u);
            if (weight.RequiresGrad) device.Gemm(MatrixOp.Transpose, MatrixOp.None, T.One, u, value, T.One, weight.GradBuffer);
        });
        return y;
    }

    /// <summary>Copies a forward solve's statistics into a report (shared by the equilibrium ops).</summary>
    internal static void ReportForward<T>(EquilibriumReport report, SolverResult<T> forward) where T : unmanaged
    {
        report.ForwardIterations = forward.Iterations;
        report.ForwardMeanIterations = forward.MeanIterations;
        report.ForwardMaxRelResidual = Max(forward.RelResidual);
        report.ForwardConverged = forward.ConvergedFraction;
        report.ForwardNonFinite = CountNonFinite(forward.Status);
        report.ForwardTrace = forward.TraceRel;
        report.ForwardSampleIterations = forward.SampleIterations;
        report.ForwardRelResidual = forward.RelResidual;
        report.ForwardDistanceBound = forward.DistanceBound;
        report.ForwardObjective = forward.Objective;
    }

    // Loops rather than LINQ: these run in every (replayed) training step.
    internal static double Max(double[] values)
    {
        double max = double.NegativeInfinity;
        foreach (var v in values) if (v > max || double.IsNaN(v)) max = v;
        return max;
    }

    private static int CountNonFinite(SampleStatus[] status)
    {
        int n = 0;
        foreach (var s in status) if (s == SampleStatus.NonFinite) n++;
        return n;
    }
}
