namespace OptEq.Solvers.Forward;

/// <summary>Picard / Krasnosel'skii–Mann: z ← (1 − τ)z + τ·T(z). For OptEq (τ = 1) this is proximal gradient on G.</summary>
public sealed class PicardSolver : StepSolver
{
    public override string Name => "picard";

    protected override void Step<T>(IFixedPointMap<T> map, int k, Tensor<T> z0, Tensor<T> z, Tensor<T> fz, SolverOptions options)
    {
        T tau = T.CreateChecked(options.Damping);
        if (tau != T.One) map.Device.Axpby(T.One - tau, z, tau, fz, fz);
    }
}
