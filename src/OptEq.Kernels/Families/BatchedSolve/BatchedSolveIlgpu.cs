using System.Numerics;
using ILGPU;
using ILGPU.Runtime;
using OptEq.Kernels.Ilgpu.Kernels;

namespace OptEq.Kernels.Ilgpu;

/// <summary>The batched solve on an ILGPU accelerator: one thread per system (<see cref="BatchedSolveKernel"/>).</summary>
internal sealed class BatchedSolveIlgpu(IlgpuDevice device) : IBatchedSolveBackend
{
    public void BatchedSolve<T>(int batch, int n, MatrixView<T> a, MatrixView<T> b, MatrixView<T> x, MatrixView<int> status) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var kernel = device.Kernels.Get("batched-solve", typeof(T), null, acc =>
            acc.LoadStreamKernel<ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<int>, int, int>(BatchedSolveKernel.Run));
        kernel(device.PerItemLaunch(batch), IlgpuDevice.View(a), IlgpuDevice.View(b), IlgpuDevice.View(x), IlgpuDevice.View(status), batch, n);
    }
}
