using ILGPU;
using ILGPU.Runtime;
using OptEq.Kernels.Ilgpu.Kernels;

namespace OptEq.Kernels.Ilgpu;

public sealed partial class IlgpuDevice
{
    protected override void TransposeCore<T>(int m, int n, Storage<T> a, MatrixLayout la, Storage<T> result, MatrixLayout lr)
    {
        if (m == 0 || n == 0) return;
        var kernel = Kernels.Get("transpose", typeof(T), null, acc =>
            acc.LoadStreamKernel<ArrayView<T>, long, ArrayView<T>, long, int, int>(TransposeKernel.Run));
        // 32 × 32 tiles moved by 32 × 8 threads on GPUs; 8 × 8 tiles on devices with small groups.
        int tile = GroupSize >= 256 ? 32 : Math.Min(8, GroupSize);
        int rowsPerPass = Math.Min(tile, GroupSize / tile);
        int gridX = (int)Math.Min(CeilDiv(n, tile), MaxGroups);
        int gridY = (int)Math.Min(Math.Min(CeilDiv(m, tile), Math.Max(1, MaxGroups / gridX)), MaxGridY);
        var launch = new KernelConfig(new Index2D(gridX, gridY), new Index2D(tile, rowsPerPass), SharedMemoryConfig.RequestDynamic<T>(tile * (tile + 1)));
        kernel(launch, View(a, la.Offset), la.RowStride, View(result, lr.Offset), lr.RowStride, m, n);
    }
}
