using System.Numerics;
using ILGPU;
using ILGPU.Runtime;
using OptEq.Kernels.Activations;
using OptEq.Kernels.Ilgpu.Kernels;

namespace OptEq.Kernels.Ilgpu;

/// <summary>The prox family on an ILGPU accelerator: one <see cref="ProxKernel"/> specialised per activation struct.</summary>
internal sealed class ProxIlgpu(IlgpuDevice device) : IProxBackend
{
    public void Prox<T, TAct>(TAct activation, int rows, int cols, MatrixView<T> v, MatrixView<T> value, MatrixView<T> derivative, MatrixView<T> penalty)
        where T : unmanaged, IFloatingPointIeee754<T> where TAct : struct, IProxActivation<T>
    {
        if (rows == 0 || cols == 0) return;
        var kernel = device.Kernels.Get("prox", typeof(T), typeof(TAct), acc =>
            acc.LoadStreamKernel<ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ProxLayout, TAct>(ProxKernel.Run<T, TAct>));
        var layout = new ProxLayout
        {
            Rows = rows, Cols = cols,
            LdV = v.RowStride, LdValue = value.RowStride, LdDerivative = derivative.RowStride, LdPenalty = penalty.RowStride,
            WriteDerivative = derivative.IsAbsent ? 0 : 1, WritePenalty = penalty.IsAbsent ? 0 : 1,
        };
        // An absent output gets the value view as a stand-in that the kernel never writes.
        var valueView = IlgpuDevice.View(value);
        kernel(device.ElementwiseLaunch(rows, cols), IlgpuDevice.View(v), valueView,
            derivative.IsAbsent ? valueView : IlgpuDevice.View(derivative), penalty.IsAbsent ? valueView : IlgpuDevice.View(penalty), layout, activation);
    }
}
