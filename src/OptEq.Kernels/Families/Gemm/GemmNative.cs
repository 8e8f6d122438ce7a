using System.Numerics;
using System.Runtime.CompilerServices;
using OptEq.Kernels.Activations;

namespace OptEq.Kernels.Native;

/// <summary>The GEMM family on the CPU: <see cref="NativeGemm"/> per batch entry; the fused prox in the packed sgemm's epilogue.</summary>
internal sealed unsafe class GemmNative(Device device) : IGemmBackend
{
    public void Gemm<T>(GemmShape shape, T alpha, MatrixView<T> a, MatrixView<T> b, T beta, MatrixView<T> c) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (opA, opB, m, n, k, batch) = shape;
        var entries = new GemmEntries<T>
        {
            TransA = opA == MatrixOp.Transpose, TransB = opB == MatrixOp.Transpose, M = m, N = n, K = k, Alpha = alpha, Beta = beta,
            A = a.Ptr(), B = b.Ptr(), C = c.Ptr(), La = a.Layout, Lb = b.Layout, Lc = c.Layout,
        };
        // Entries too small for two threads each (Anderson's per-sample Gram and mixing products) are spread across
        // the cores instead: the GEMM keeps its packing buffers per thread, so concurrent calls are safe.
        if (batch > 1 && (long)m * n * k < NativeGemm.ParallelThreshold)
            NativeParallel.For(batch, (long)m * n * k, entries);
        else
            entries.Run(0, batch);
    }

    /// <summary>float32 with SIMD: the packed sgemm (every width) with the bias/prox/σ′ epilogue on each finished tile. Otherwise the composition.</summary>
    public void GemmProx<T, TAct>(TAct activation, GemmShape shape, MatrixView<T> a, MatrixView<T> b, MatrixView<T> addend, MatrixView<T> value, MatrixView<T> derivative)
        where T : unmanaged, IFloatingPointIeee754<T> where TAct : struct, IProxActivation<T>
    {
        if (typeof(T) != typeof(float) || NativeGemm.KernelFor(SimdWidth.Current) is null || shape.K == 0)
        {
            GemmProxComposition.Run(device, activation, shape, a, b, addend, value, derivative);
            return;
        }
        var epilogue = new SgemmEpilogue
        {
            Addend = addend.IsAbsent ? null : (float*)addend.Ptr(), AddendStride = addend.RowStride,
            Derivative = derivative.IsAbsent ? null : (float*)derivative.Ptr(), DerivativeStride = derivative.RowStride,
            Activate = &ActivateRow<T, TAct>, Activation = Unsafe.AsPointer(ref activation), // activation lives in this frame for the call
        };
        NativeGemm.Sgemm(shape.OpA == MatrixOp.Transpose, shape.OpB == MatrixOp.Transpose, shape.M, shape.N, shape.K, 1f, (float*)a.Ptr(), a.RowStride,
            (float*)b.Ptr(), b.RowStride, 0f, (float*)value.Ptr(), value.RowStride, &epilogue);
    }

    private static void ActivateRow<T, TAct>(void* activation, float* values, float* derivative, int count)
        where T : unmanaged, IFloatingPointIeee754<T> where TAct : struct, IProxActivation<T>
        => ActivationRows.Apply(Unsafe.AsRef<TAct>(activation), (T*)values, (T*)values, (T*)derivative, count);

    /// <summary>Entries [s0, s1) of a batched GEMM, one after the other.</summary>
    private struct GemmEntries<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public bool TransA, TransB;
        public int M, N, K;
        public T Alpha, Beta;
        public T* A, B, C;
        public MatrixLayout La, Lb, Lc;

        public readonly void Run(int s0, int s1)
        {
            for (int s = s0; s < s1; s++)
                NativeGemm.Gemm(TransA, TransB, M, N, K, Alpha, A + s * La.BatchStride, La.RowStride, B + s * Lb.BatchStride, Lb.RowStride,
                    Beta, C + s * Lc.BatchStride, Lc.RowStride);
        }
    }
}
