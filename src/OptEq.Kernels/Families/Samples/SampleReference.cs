using System.Numerics;

namespace OptEq.Kernels.Reference;

public static partial class ReferenceKernels
{
    /// <summary><see cref="SampleExtensions.UpdateSamples{T,TRule}"/> on dense arrays: state [8, batch] in place; returns the trace values per sample.</summary>
    public static (T[] X, T[] Y) UpdateSamples<T, TRule>(TRule rule, T[] x, T[] y, T[] state)
        where T : unmanaged, IFloatingPointIeee754<T> where TRule : struct, ISampleRule<T>
    {
        int batch = x.Length;
        var tx = new T[batch]; var ty = new T[batch];
        for (int i = 0; i < batch; i++)
        {
            var c = new SampleColumn<T>
            {
                S0 = state[i], S1 = state[batch + i], S2 = state[2 * batch + i], S3 = state[3 * batch + i],
                S4 = state[4 * batch + i], S5 = state[5 * batch + i], S6 = state[6 * batch + i], S7 = state[7 * batch + i],
            };
            (tx[i], ty[i]) = rule.Apply(x[i], y[i], ref c);
            state[i] = c.S0; state[batch + i] = c.S1; state[2 * batch + i] = c.S2; state[3 * batch + i] = c.S3;
            state[4 * batch + i] = c.S4; state[5 * batch + i] = c.S5; state[6 * batch + i] = c.S6; state[7 * batch + i] = c.S7;
        }
        return (tx, ty);
    }
}
