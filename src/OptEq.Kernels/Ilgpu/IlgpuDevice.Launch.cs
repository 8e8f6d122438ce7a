using ILGPU;
using ILGPU.Runtime;

namespace OptEq.Kernels.Ilgpu;

// Launch shapes for every kernel, in one place. Kernels loop with grid strides, so any grid covers any size:
// these numbers only decide how much work is in flight, never what is computed.
public sealed partial class IlgpuDevice
{
    /// <summary>Threads per group for elementwise and row kernels: 256 (a common GPU sweet spot), less where the device allows less.</summary>
    internal int GroupSize => LargestPowerOfTwoAtMost(Math.Min(256, Accelerator.MaxNumThreadsPerGroup));

    /// <summary>
    /// Cap on groups for grid-stride kernels: 8 groups of 256 threads per multiprocessor fill a GPU (2048 resident
    /// threads per SM); more groups only add scheduling. On the one-multiprocessor simulator this is 8 groups, which also
    /// makes the tests walk the grid-stride loops.
    /// </summary>
    internal int MaxGroups => Math.Max(1, Accelerator.NumMultiprocessors) * 8;

    /// <summary>Elementwise kernels over a rows × cols matrix: groups of 32 columns × (GroupSize / 32) rows, coalesced along rows.</summary>
    internal KernelConfig ElementwiseLaunch(int rows, int cols)
    {
        int gx = Math.Min(32, GroupSize), gy = GroupSize / gx;
        int gridX = (int)Math.Min(CeilDiv(cols, gx), MaxGroups);
        int gridY = (int)Math.Min(Math.Min(CeilDiv(rows, gy), Math.Max(1, MaxGroups / gridX)), MaxGridY);
        return new KernelConfig(new Index2D(gridX, gridY), new Index2D(gx, gy));
    }

    /// <summary>
    /// One group per row (rows taken with a grid stride), for row reductions and softmax: the smallest power of two of
    /// at least 32 threads that covers the row, up to GroupSize; dynamic shared memory holds one partial per thread.
    /// </summary>
    internal KernelConfig RowLaunch<T>(int rows, int cols) where T : unmanaged
    {
        int threads = Math.Min(32, GroupSize);
        while (threads < cols && threads < GroupSize) threads *= 2;
        int grid = (int)Math.Min(rows, MaxGroups);
        return new KernelConfig(new Index1D(grid), new Index1D(threads), SharedMemoryConfig.RequestDynamic<T>(threads));
    }

    /// <summary>One thread per item (batched solve): groups of 64 threads.</summary>
    internal KernelConfig PerItemLaunch(int items)
    {
        int group = Math.Min(64, GroupSize);
        return new KernelConfig(new Index1D((int)Math.Min(CeilDiv(items, group), MaxGroups)), new Index1D(group));
    }

    // CUDA limits grid dimensions y and z to 65535; kernels loop over what a grid does not cover.
    internal const int MaxGridY = 65535, MaxGridZ = 65535;

    internal static long CeilDiv(long a, long b) => (a + b - 1) / b;

    private static int LargestPowerOfTwoAtMost(int n)
    {
        int p = 1;
        while (p * 2 <= n) p *= 2;
        return p;
    }

    /// <summary>The buffer behind a storage, from <paramref name="offset"/> on (kernels index it with row strides).</summary>
    internal static ArrayView<T> View<T>(Storage<T> storage, long offset) where T : unmanaged
        => ((IlgpuStorage<T>)storage).ViewFrom(offset);

    /// <summary>The buffer behind an operand, from its offset on.</summary>
    internal static ArrayView<T> View<T>(MatrixView<T> v) where T : unmanaged => ((IlgpuStorage<T>)v.Storage).ViewFrom(v.Offset);
}
