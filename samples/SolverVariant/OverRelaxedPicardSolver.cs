using System.Numerics;
using OptEq.Kernels;
using OptEq.Solvers;
using OptEq.Solvers.Forward;

namespace SolverVariant;

/// <summary>
/// Over-relaxed Krasnosel'skii–Mann: z ← (1 − ω)z + ω·T(z) with ω = 1.4 &gt; 1, beyond the library's damping range
/// (0, 1] (docs/math.md §4.1). For OptEq, T = prox_f ∘ (z ↦ Mz + c) with 0 ⪯ M ⪯ ρI (docs/math.md §1.2): both factors
/// are ½-averaged, so T is ⅔-averaged and the relaxed iteration converges for ω &lt; 3/2. Near the equilibrium the
/// rate is max(ω − 1, 1 − ω(1 − ρ)), below Picard's ρ when ρ is close to 1 (slow contraction).
/// StepSolver runs the loop (residuals, per-sample stopping, best iterate); this class is only the step.
/// </summary>
public sealed class OverRelaxedPicardSolver : StepSolver
{
    public const double Omega = 1.4;

    public override string Name => "over-relaxed-picard";

    protected override void Step<T>(IFixedPointMap<T> map, int k, Tensor<T> z0, Tensor<T> z, Tensor<T> fz, SolverOptions options)
    {
        T omega = T.CreateChecked(Omega);
        map.Device.Axpby(T.One - omega, z, omega, fz, fz); // fz holds T(z) on entry and the next iterate on exit
    }
}
