namespace OptEq.Solvers.Forward;

/// <summary>
/// Halpern's anchored iteration z_{k+1} = λ_{k+1}·a + (1 − λ_{k+1})·T(z_k), λ_k = 1/(k + 1), with the anchor a = z0.
/// For a non-expansive T it converges to the fixed point nearest the anchor (MATH.md §1.5): the way to choose among
/// many equilibria. Convergence is sublinear, O(1/k).
/// </summary>
public sealed class HalpernSolver : ForwardSolver
{
    public override SolverKind Kind => SolverKind.Halpern;

    protected override SolverResult<T> Run<T>(IFixedPointMap<T> map, Tensor<T> z0, SolverOptions options)
    {
        var device = map.Device;
        var z = device.Pool.Rent<T>(map.Batch, map.Dimension);
        var fz = device.Pool.Rent<T>(map.Batch, map.Dimension);
        using var tracker = new ConvergenceTracker<T>(device, z0, options);
        try
        {
            device.Copy(z0, z);
            for (int k = 0; k < options.MaxIterations; k++)
            {
                map.Apply(z, fz);
                tracker.Observe(k, z, fz);
                if (tracker.AllStopped(k)) break;
                T lambda = T.One / T.CreateChecked(k + 2);
                device.Axpby(lambda, z0, T.One - lambda, fz, fz);
                tracker.Freeze(fz, z);
            }
            return tracker.Finish(Name(Kind), device.Allocate<T>(map.Batch, map.Dimension));
        }
        finally
        {
            device.Pool.Return(z);
            device.Pool.Return(fz);
        }
    }
}
