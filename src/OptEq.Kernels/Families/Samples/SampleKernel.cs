using System.Numerics;
using ILGPU;

namespace OptEq.Kernels.Ilgpu.Kernels;

/// <summary>Sizes of a per-sample launch, and which traces to write (ILGPU kernel parameters cannot be bool).</summary>
public struct SampleLaunch
{
    public int Batch, TraceRow, WriteX, WriteY;
}

public static class SampleKernel
{
    /// <summary>One thread per sample: load its state column, apply the rule, store the column and the trace entries.</summary>
    public static void Run<T, TRule>(TRule rule, ArrayView<T> x, ArrayView<T> y, ArrayView<T> state, ArrayView<T> traceX, ArrayView<T> traceY, SampleLaunch l)
        where T : unmanaged, IFloatingPointIeee754<T> where TRule : struct, ISampleRule<T>
    {
        int batch = l.Batch;
        for (int i = Grid.GlobalIndex.X; i < batch; i += Grid.DimX * Group.DimX)
        {
            var c = new SampleColumn<T>
            {
                S0 = state[i], S1 = state[batch + i], S2 = state[2L * batch + i], S3 = state[3L * batch + i],
                S4 = state[4L * batch + i], S5 = state[5L * batch + i], S6 = state[6L * batch + i], S7 = state[7L * batch + i],
            };
            var (vx, vy) = rule.Apply(x[i], y[i], ref c);
            state[i] = c.S0; state[batch + i] = c.S1; state[2L * batch + i] = c.S2; state[3L * batch + i] = c.S3;
            state[4L * batch + i] = c.S4; state[5L * batch + i] = c.S5; state[6L * batch + i] = c.S6; state[7L * batch + i] = c.S7;
            if (l.WriteX != 0) traceX[(long)l.TraceRow * batch + i] = vx;
            if (l.WriteY != 0) traceY[(long)l.TraceRow * batch + i] = vy;
        }
    }
}
