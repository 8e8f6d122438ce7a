using System.Numerics;
using ILGPU;
using ILGPU.Runtime;
using OptEq.Kernels.Ilgpu.Kernels;

namespace OptEq.Kernels.Ilgpu;

/// <summary>The per-sample kernel on an ILGPU accelerator: one thread per sample, one specialised kernel per rule.</summary>
internal sealed class SampleIlgpu(IlgpuDevice device) : ISampleBackend
{
    public void UpdateSamples<T, TRule>(TRule rule, int batch, MatrixView<T> x, MatrixView<T> y, MatrixView<T> state, int traceRow, MatrixView<T> traceX, MatrixView<T> traceY)
        where T : unmanaged, IFloatingPointIeee754<T> where TRule : struct, ISampleRule<T>
    {
        var kernel = device.Kernels.Get("update-samples", typeof(T), typeof(TRule), acc =>
            acc.LoadStreamKernel<TRule, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, SampleLaunch>(SampleKernel.Run<T, TRule>));
        // An absent trace gets the state view as a stand-in that the kernel never writes.
        var sv = IlgpuDevice.View(state);
        var args = new SampleLaunch { Batch = batch, TraceRow = traceRow, WriteX = traceX.IsAbsent ? 0 : 1, WriteY = traceY.IsAbsent ? 0 : 1 };
        kernel(device.PerItemLaunch(batch), rule, IlgpuDevice.View(x), IlgpuDevice.View(y), sv,
            traceX.IsAbsent ? sv : IlgpuDevice.View(traceX), traceY.IsAbsent ? sv : IlgpuDevice.View(traceY), args);
    }
}
