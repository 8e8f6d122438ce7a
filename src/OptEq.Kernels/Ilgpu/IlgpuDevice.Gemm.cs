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
        var cView = View(c, lc.Offset);
        Launch(args, a, la, b, lb, cView, cView, cView, new PlainGemmStore<T>()); // c stands in for the unused epilogue views
    }

    /// <summary>The GEMM kernel with the prox epilogue: σ, the addend and σ′ applied as each element of C is stored.</summary>
    protected internal override void GemmProxCore<T, TAct>(TAct activation, MatrixOp opA, MatrixOp opB, int m, int n, int k,
        Storage<T> a, MatrixLayout la, Storage<T> b, MatrixLayout lb, Storage<T>? addend, MatrixLayout ladd,
        Storage<T> value, MatrixLayout lval, Storage<T>? derivative, MatrixLayout lder)
    {
        var args = new GemmArgs<T>
        {
            M = m, N = n, K = k, Batch = 1,
            TransA = opA == MatrixOp.Transpose ? 1 : 0, TransB = opB == MatrixOp.Transpose ? 1 : 0,
            Lda = la.RowStride, Ldb = lb.RowStride, Ldc = lval.RowStride, Alpha = T.One, Beta = T.Zero,
        };
        var store = new ProxGemmStore<T, TAct>
        {
            Activation = activation, LdAddend = ladd.RowStride, LdDerivative = lder.RowStride,
            HasAddend = addend is null ? 0 : 1, HasDerivative = derivative is null ? 0 : 1,
        };
        var valueView = View(value, lval.Offset);
        Launch(args, a, la, b, lb, valueView, addend is null ? valueView : View(addend, ladd.Offset), derivative is null ? valueView : View(derivative, lder.Offset), store);
    }

    /// <summary>
    /// Picks the tile shape per accelerator: 64 × 64 tiles (256 threads) wherever a group may hold 256 threads (CUDA,
    /// OpenCL GPUs, the ilgpu-cpu simulator); 16 × 16 tiles (16 threads) on smaller simulators.
    /// </summary>
    private void Launch<T, TStore>(GemmArgs<T> args, Storage<T> a, MatrixLayout la, Storage<T> b, MatrixLayout lb,
        ArrayView<T> c, ArrayView<T> addend, ArrayView<T> derivative, TStore store)
        where T : unmanaged, IFloatingPointIeee754<T> where TStore : struct, IGemmStore<T>
    {
        if (Accelerator.MaxNumThreadsPerGroup >= 256) Launch<T, GemmTiling64, TStore>(args, a, la, b, lb, c, addend, derivative, store);
        else if (Accelerator.MaxNumThreadsPerGroup >= 16) Launch<T, GemmTiling16, TStore>(args, a, la, b, lb, c, addend, derivative, store);
        else throw new NotSupportedException($"gemm: {Id} allows only {Accelerator.MaxNumThreadsPerGroup} threads per group; the kernel needs 16");
    }

    private void Launch<T, TTile, TStore>(GemmArgs<T> args, Storage<T> a, MatrixLayout la, Storage<T> b, MatrixLayout lb,
        ArrayView<T> c, ArrayView<T> addend, ArrayView<T> derivative, TStore store)
        where T : unmanaged, IFloatingPointIeee754<T> where TTile : struct, IGemmTiling where TStore : struct, IGemmStore<T>
    {
        var kernel = Kernels.Get("gemm", typeof(T), typeof((TTile, TStore)), acc =>
            acc.LoadStreamKernel<ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, GemmArgs<T>, TStore>(GemmKernel.Run<T, TTile, TStore>));
        var tiling = default(TTile);
        int gridX = (int)CeilDiv(args.N, tiling.TileN);
        int gridY = (int)Math.Min(CeilDiv(args.M, tiling.TileM), MaxGridY);
        int gridZ = Math.Min(args.Batch, MaxGridZ);
        var launch = new KernelConfig(new Index3D(gridX, gridY, gridZ), new Index3D(tiling.TileM / 4 * (tiling.TileN / 4), 1, 1));
        kernel(launch, View(a, la.Offset), View(b, lb.Offset), c, addend, derivative, args, store);
    }
}
