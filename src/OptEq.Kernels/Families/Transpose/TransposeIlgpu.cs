using ILGPU;
using ILGPU.Runtime;
using OptEq.Kernels.Ilgpu.Kernels;

namespace OptEq.Kernels.Ilgpu;

/// <summary>The transpose on an ILGPU accelerator: tiles through shared memory (<see cref="TransposeKernel"/>).</summary>
internal sealed class TransposeIlgpu(IlgpuDevice device) : ITransposeBackend
{
    public void Transpose<T>(int m, int n, MatrixView<T> a, MatrixView<T> result) where T : unmanaged
    {
        if (m == 0 || n == 0) return;
        var kernel = device.Kernels.Get("transpose", typeof(T), null, acc =>
            acc.LoadStreamKernel<ArrayView<T>, long, ArrayView<T>, long, int, int>(TransposeKernel.Run));
        // 32 × 32 tiles moved by 32 × 8 threads on GPUs; 8 × 8 tiles on devices with small groups.
        int groupSize = device.GroupSize, maxGroups = device.MaxGroups;
        int tile = groupSize >= 256 ? 32 : Math.Min(8, groupSize);
        int rowsPerPass = Math.Min(tile, groupSize / tile);
        int gridX = (int)Math.Min(IlgpuDevice.CeilDiv(n, tile), maxGroups);
        int gridY = (int)Math.Min(Math.Min(IlgpuDevice.CeilDiv(m, tile), Math.Max(1, maxGroups / gridX)), IlgpuDevice.MaxGridY);
        var launch = new KernelConfig(new Index2D(gridX, gridY), new Index2D(tile, rowsPerPass), SharedMemoryConfig.RequestDynamic<T>(tile * (tile + 1)));
        kernel(launch, IlgpuDevice.View(a), a.RowStride, IlgpuDevice.View(result), result.RowStride, m, n);
    }
}
