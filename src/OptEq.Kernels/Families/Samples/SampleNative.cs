using System.Numerics;

namespace OptEq.Kernels.Native;

/// <summary>The per-sample kernel on the CPU: one thread (a batch is a few hundred samples of a few flops each).</summary>
internal sealed unsafe class SampleNative : ISampleBackend
{
    public void UpdateSamples<T, TRule>(TRule rule, int batch, MatrixView<T> x, MatrixView<T> y, MatrixView<T> state, int traceRow, MatrixView<T> traceX, MatrixView<T> traceY)
        where T : unmanaged, IFloatingPointIeee754<T> where TRule : struct, ISampleRule<T>
    {
        T* px = x.Ptr(), py = y.Ptr(), s = state.Ptr();
        T* tx = traceX.IsAbsent ? null : traceX.Ptr() + (long)traceRow * batch, ty = traceY.IsAbsent ? null : traceY.Ptr() + (long)traceRow * batch;
        for (int i = 0; i < batch; i++)
        {
            var column = SampleColumns.Load(s, batch, i);
            var (vx, vy) = rule.Apply(px[i], py[i], ref column);
            SampleColumns.Store(column, s, batch, i);
            if (tx != null) tx[i] = vx;
            if (ty != null) ty[i] = vy;
        }
    }
}

internal static unsafe class SampleColumns
{
    public static SampleColumn<T> Load<T>(T* s, int batch, int i) where T : unmanaged => new()
    {
        S0 = s[i], S1 = s[batch + i], S2 = s[2L * batch + i], S3 = s[3L * batch + i],
        S4 = s[4L * batch + i], S5 = s[5L * batch + i], S6 = s[6L * batch + i], S7 = s[7L * batch + i],
    };

    public static void Store<T>(in SampleColumn<T> c, T* s, int batch, int i) where T : unmanaged
    {
        s[i] = c.S0; s[batch + i] = c.S1; s[2L * batch + i] = c.S2; s[3L * batch + i] = c.S3;
        s[4L * batch + i] = c.S4; s[5L * batch + i] = c.S5; s[6L * batch + i] = c.S6; s[7L * batch + i] = c.S7;
    }
}
