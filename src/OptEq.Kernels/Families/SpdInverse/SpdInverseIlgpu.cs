using System.Numerics;
using ILGPU;
using ILGPU.Runtime;
using OptEq.Kernels.Ilgpu.Kernels;

namespace OptEq.Kernels.Ilgpu;

/// <summary>The batched SPD inverse on an ILGPU accelerator: one thread per matrix (<see cref="SpdInverseKernel"/>).</summary>
internal sealed class SpdInverseIlgpu(IlgpuDevice device) : ISpdInverseBackend
{
    public void SpdInverse<T>(int batch, int n, MatrixView<T> a, T damping, MatrixView<T> result, MatrixView<int> status) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var kernel = device.Kernels.Get("spd-inverse", typeof(T), null, acc =>
            acc.LoadStreamKernel<ArrayView<T>, ArrayView<T>, ArrayView<int>, T, int, int>(SpdInverseKernel.Run));
        kernel(device.PerItemLaunch(batch), IlgpuDevice.View(a), IlgpuDevice.View(result), IlgpuDevice.View(status), damping, batch, n);
    }
}
