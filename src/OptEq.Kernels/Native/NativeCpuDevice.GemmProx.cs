using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using OptEq.Kernels.Activations;

namespace OptEq.Kernels.Native;

public sealed unsafe partial class NativeCpuDevice
{
    /// <summary>float32 on AVX-512: the packed sgemm with the bias/prox/σ′ epilogue on each finished tile. Otherwise the composition.</summary>
    protected internal override void GemmProxCore<T, TAct>(TAct activation, MatrixOp opA, MatrixOp opB, int m, int n, int k,
        Storage<T> a, MatrixLayout la, Storage<T> b, MatrixLayout lb, Storage<T>? addend, MatrixLayout ladd,
        Storage<T> value, MatrixLayout lval, Storage<T>? derivative, MatrixLayout lder)
    {
        if (typeof(T) != typeof(float) || !Avx512F.IsSupported || k == 0)
        {
            base.GemmProxCore(activation, opA, opB, m, n, k, a, la, b, lb, addend, ladd, value, lval, derivative, lder);
            return;
        }
        var epilogue = new SgemmEpilogue
        {
            Addend = addend is null ? null : (float*)Ptr(addend, ladd.Offset), AddendStride = ladd.RowStride,
            Derivative = derivative is null ? null : (float*)Ptr(derivative, lder.Offset), DerivativeStride = lder.RowStride,
            Activate = &ActivateRow<T, TAct>, Activation = Unsafe.AsPointer(ref activation), // activation lives in this frame for the call
        };
        NativeGemm.Sgemm(opA == MatrixOp.Transpose, opB == MatrixOp.Transpose, m, n, k, 1f, (float*)Ptr(a, la.Offset), la.RowStride,
            (float*)Ptr(b, lb.Offset), lb.RowStride, 0f, (float*)Ptr(value, lval.Offset), lval.RowStride, &epilogue);
    }

    private static void ActivateRow<T, TAct>(void* activation, float* values, float* derivative, int count)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> where TAct : struct, IProxActivation<T>
        => ActivationRows.Apply(Unsafe.AsRef<TAct>(activation), (T*)values, (T*)values, (T*)derivative, count);
}
