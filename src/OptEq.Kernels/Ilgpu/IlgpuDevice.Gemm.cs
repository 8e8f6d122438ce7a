using System.Numerics;
using ILGPU;
using ILGPU.Runtime;
using OptEq.Kernels.Ilgpu.Kernels;

namespace OptEq.Kernels.Ilgpu;

public sealed partial class IlgpuDevice
{
    protected override void GemmCore<T>(MatrixOp opA, MatrixOp opB, int m, int n, int k, int batch, T alpha,
        Storage<T> a, MatrixLayout la, Storage<T> b, MatrixLayout lb, T beta, Storage<T> c, MatrixLayout lc)
    {
        var args = new GemmArgs<T>
        {
            M = m, N = n, K = k, Batch = batch,
            TransA = opA == MatrixOp.Transpose ? 1 : 0, TransB = opB == MatrixOp.Transpose ? 1 : 0,
            Lda = la.RowStride, Ldb = lb.RowStride, Ldc = lc.RowStride,
            BatchStrideA = la.BatchStride, BatchStrideB = lb.BatchStride, BatchStrideC = lc.BatchStride,
            Alpha = alpha, Beta = beta,
        };
        // The tile shape is chosen here, per accelerator: 64 × 64 tiles (256 threads) wherever a group may hold 256
        // threads (CUDA, OpenCL GPUs, the ilgpu-cpu simulator); 16 × 16 tiles (16 threads) on smaller simulators.
        if (Accelerator.MaxNumThreadsPerGroup >= 256) Gemm<T, GemmTiling64>(args, a, la, b, lb, c, lc);
        else if (Accelerator.MaxNumThreadsPerGroup >= 16) Gemm<T, GemmTiling16>(args, a, la, b, lb, c, lc);
        else throw new NotSupportedException($"gemm: {Id} allows only {Accelerator.MaxNumThreadsPerGroup} threads per group; the kernel needs 16");
    }

    private void Gemm<T, TTile>(GemmArgs<T> args, Storage<T> a, MatrixLayout la, Storage<T> b, MatrixLayout lb, Storage<T> c, MatrixLayout lc)
        where T : unmanaged, IFloatingPointIeee754<T> where TTile : struct, IGemmTiling
    {
        var kernel = Kernels.Get("gemm", typeof(T), typeof(TTile), acc =>
            acc.LoadStreamKernel<ArrayView<T>, ArrayView<T>, ArrayView<T>, GemmArgs<T>>(GemmKernel.Run<T, TTile>));
        var tiling = default(TTile);
        int gridX = (int)CeilDiv(args.N, tiling.TileN);
        int gridY = (int)Math.Min(CeilDiv(args.M, tiling.TileM), MaxGridY);
        int gridZ = Math.Min(args.Batch, MaxGridZ);
        var launch = new KernelConfig(new Index3D(gridX, gridY, gridZ), new Index3D(tiling.TileM / 4 * (tiling.TileN / 4), 1, 1));
        kernel(launch, View(a, la.Offset), View(b, lb.Offset), View(c, lc.Offset), args);
    }
}
