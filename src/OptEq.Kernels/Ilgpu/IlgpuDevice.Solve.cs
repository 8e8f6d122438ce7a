using ILGPU;
using ILGPU.Runtime;
using OptEq.Kernels.Ilgpu.Kernels;

namespace OptEq.Kernels.Ilgpu;

public sealed partial class IlgpuDevice
{
    protected override void BatchedSolveCore<T>(int batch, int n, Storage<T> a, long aOffset, Storage<T> b, long bOffset, Storage<T> x, long xOffset,
        Storage<int> status, long statusOffset)
    {
        var kernel = Kernels.Get("batched-solve", typeof(T), null, acc =>
            acc.LoadStreamKernel<ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<int>, int, int>(BatchedSolveKernel.Run));
        kernel(PerItemLaunch(batch), View(a, aOffset), View(b, bOffset), View(x, xOffset), View(status, statusOffset), batch, n);
    }
}
