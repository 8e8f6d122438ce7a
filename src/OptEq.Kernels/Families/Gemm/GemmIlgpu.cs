using System.Numerics;
using ILGPU;
using ILGPU.Runtime;
using OptEq.Kernels.Activations;
using OptEq.Kernels.Ilgpu.Kernels;

namespace OptEq.Kernels.Ilgpu;

/// <summary>The GEMM family on an ILGPU accelerator: <see cref="GemmKernel"/> with a plain or a prox store policy.</summary>
internal sealed class GemmIlgpu(IlgpuDevice device) : IGemmBackend
{
    public void Gemm<T>(GemmShape shape, T alpha, MatrixView<T> a, MatrixView<T> b, T beta, MatrixView<T> c) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var args = new GemmArgs<T>
        {
            M = shape.M, N = shape.N, K = shape.K, Batch = shape.Batch,
            TransA = shape.OpA == MatrixOp.Transpose ? 1 : 0, TransB = shape.OpB == MatrixOp.Transpose ? 1 : 0,
            Lda = a.RowStride, Ldb = b.RowStride, Ldc = c.RowStride,
            BatchStrideA = a.BatchStride, BatchStrideB = b.BatchStride, BatchStrideC = c.BatchStride,
            Alpha = alpha, Beta = beta,
        };
        var cView = IlgpuDevice.View(c);
        Launch(args, a, b, cView, cView, cView, new PlainGemmStore<T>()); // c stands in for the unused epilogue views
    }

    /// <summary>The GEMM kernel with the prox epilogue: σ, the addend and σ′ applied as each element of C is stored.</summary>
    public void GemmProx<T, TAct>(TAct activation, GemmShape shape, MatrixView<T> a, MatrixView<T> b, MatrixView<T> addend, MatrixView<T> value, MatrixView<T> derivative)
        where T : unmanaged, IFloatingPointIeee754<T> where TAct : struct, IProxActivation<T>
    {
        var args = new GemmArgs<T>
        {
            M = shape.M, N = shape.N, K = shape.K, Batch = 1,
            TransA = shape.OpA == MatrixOp.Transpose ? 1 : 0, TransB = shape.OpB == MatrixOp.Transpose ? 1 : 0,
            Lda = a.RowStride, Ldb = b.RowStride, Ldc = value.RowStride, Alpha = T.One, Beta = T.Zero,
        };
        var store = new ProxGemmStore<T, TAct>
        {
            Activation = activation, LdAddend = addend.RowStride, LdDerivative = derivative.RowStride,
            HasAddend = addend.IsAbsent ? 0 : 1, HasDerivative = derivative.IsAbsent ? 0 : 1,
        };
        var valueView = IlgpuDevice.View(value);
        Launch(args, a, b, valueView, addend.IsAbsent ? valueView : IlgpuDevice.View(addend), derivative.IsAbsent ? valueView : IlgpuDevice.View(derivative), store);
    }

    /// <summary>
    /// Picks the tile shape per accelerator: 64 × 64 tiles (256 threads) wherever a group may hold 256 threads (CUDA,
    /// OpenCL GPUs, the ilgpu-cpu simulator); 16 × 16 tiles (16 threads) on smaller simulators.
    /// </summary>
    private void Launch<T, TStore>(GemmArgs<T> args, MatrixView<T> a, MatrixView<T> b, ArrayView<T> c, ArrayView<T> addend, ArrayView<T> derivative, TStore store)
        where T : unmanaged, IFloatingPointIeee754<T> where TStore : struct, IGemmStore<T>
    {
        int threads = device.Accelerator.MaxNumThreadsPerGroup;
        if (threads >= 256) Launch<T, GemmTiling64, TStore>(args, a, b, c, addend, derivative, store);
        else if (threads >= 16) Launch<T, GemmTiling16, TStore>(args, a, b, c, addend, derivative, store);
        else throw new NotSupportedException($"gemm: {device.Id} allows only {threads} threads per group; the kernel needs 16");
    }

    private void Launch<T, TTile, TStore>(GemmArgs<T> args, MatrixView<T> a, MatrixView<T> b, ArrayView<T> c, ArrayView<T> addend, ArrayView<T> derivative, TStore store)
        where T : unmanaged, IFloatingPointIeee754<T> where TTile : struct, IGemmTiling where TStore : struct, IGemmStore<T>
    {
        var kernel = device.Kernels.Get("gemm", typeof(T), typeof((TTile, TStore)), acc =>
            acc.LoadStreamKernel<ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, GemmArgs<T>, TStore>(GemmKernel.Run<T, TTile, TStore>));
        var tiling = default(TTile);
        int gridX = (int)IlgpuDevice.CeilDiv(args.N, tiling.TileN);
        int gridY = (int)Math.Min(IlgpuDevice.CeilDiv(args.M, tiling.TileM), IlgpuDevice.MaxGridY);
        int gridZ = Math.Min(args.Batch, IlgpuDevice.MaxGridZ);
        var launch = new KernelConfig(new Index3D(gridX, gridY, gridZ), new Index3D(tiling.TileM / 4 * (tiling.TileN / 4), 1, 1));
        kernel(launch, IlgpuDevice.View(a), IlgpuDevice.View(b), c, addend, derivative, args, store);
    }
}
