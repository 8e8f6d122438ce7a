using OptEq.Solvers;

namespace OptEq.Autodiff;

/// <summary>
/// The adjoint w of an equilibrium under a backward mode, shared by every implicit layer: implicit (an adjoint solve of
/// w = (∂T/∂z)ᵀw + g), Jacobian-free (w = g) or phantom (k damped steps). The map must be prepared at z*.
/// </summary>
internal static class AdjointBackward
{
    public static void Solve<T>(BackwardOptions backward, IAdjointMap<T> map, Tensor<T> g, Tensor<T> w, Tape<T> tape, EquilibriumReport? report)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var device = tape.Device;
        switch (backward.Mode)
        {
            case BackwardMode.Implicit:
                using (var adjoint = backward.Adjoint.Solve(map, g,
                    report is { RecordTrace: true } ? backward.AdjointOptions with { RecordTrace = true } : backward.AdjointOptions))
                {
                    device.Copy(adjoint.Solution, w);
                    if (report is not null)
                    {
                        report.BackwardMeanIterations = adjoint.MeanIterations;
                        report.BackwardMaxRelResidual = Ops.Max(adjoint.RelResidual);
                        report.BackwardTrace = adjoint.TraceRel;
                    }
                }
                break;
            case BackwardMode.JacobianFree:
                device.Copy(g, w);
                break;
            case BackwardMode.Phantom:
                var vjp = tape.Rent(g.Shape);
                device.Copy(g, w);
                T lambda = T.CreateChecked(backward.Damping);
                for (int i = 0; i < backward.Steps; i++)
                {
                    map.VectorJacobianProductPlus(w, g, vjp); // (∂T/∂z)ᵀw + g, fused where the map can
                    device.Axpby(lambda, vjp, T.One - lambda, w, w);
                }
                break;
            default:
                throw new InvalidOperationException($"backward mode {backward.Mode} has no adjoint (unrolled modes differentiate on the tape)");
        }
    }
}
