using OptEq.Kernels.Activations;

namespace OptEq.Kernels.Reference;

public static partial class ReferenceKernels
{
    /// <summary>σ(v), σ′(v) and f(σ(v)) elementwise.</summary>
    public static (double[] Value, double[] Derivative, double[] Penalty) Prox<TAct>(TAct activation, double[] v) where TAct : IProxActivation<double>
    {
        var z = new double[v.Length]; var d = new double[v.Length]; var f = new double[v.Length];
        for (int i = 0; i < v.Length; i++)
        {
            z[i] = activation.Value(v[i]);
            d[i] = activation.Derivative(v[i]);
            f[i] = activation.Penalty(z[i]);
        }
        return (z, d, f);
    }
}
