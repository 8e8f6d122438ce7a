namespace OptEq.Solvers.Forward;

/// <summary>
/// Halpern's anchored iteration z_{k+1} = λ_{k+1}·a + (1 − λ_{k+1})·T(z_k), λ_k = 1/(k + 1), with the anchor a = z0.
/// For a non-expansive T it converges to the fixed point nearest the anchor (docs/math.md §1.5): the way to choose among
/// many equilibria. Convergence is sublinear, O(1/k).
/// </summary>
public sealed class HalpernSolver : StepSolver
{
    public override string Name => "halpern";

    protected override void Step<T>(IFixedPointMap<T> map, int k, Tensor<T> z0, Tensor<T> z, Tensor<T> fz, SolverOptions options)
    {
        T lambda = T.One / T.CreateChecked(k + 2);
        map.Device.Axpby(lambda, z0, T.One - lambda, fz, fz);
    }
}
