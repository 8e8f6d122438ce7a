using ILGPU.Runtime.Cuda;
using OptEq.Kernels;
using OptEq.Kernels.Ilgpu;

namespace OptEq.Cli.Bench;

/// <summary>
/// cuBLAS (through ILGPU.Algorithms) as the peer of a CUDA device's GEMM. Created only for CUDA devices, so nothing
/// here touches the CUDA libraries on other machines.
/// </summary>
public sealed class CuBlasPeer : IDisposable
{
    private readonly CuBlas _blas;

    private CuBlasPeer(CuBlas blas) => _blas = blas;

    /// <summary>A peer for <paramref name="device"/> when it is a CUDA device and cuBLAS loads; otherwise null and why.</summary>
    public static CuBlasPeer? TryCreate(Device device, out string? why)
    {
        why = null;
        if (device is not IlgpuDevice { Accelerator: CudaAccelerator cuda }) { why = $"{device.Id} is not a CUDA device"; return null; }
        try
        {
            var blas = new CuBlas(cuda) { PointerMode = CuBlasPointerMode.Host };
            blas.Stream = (CudaStream)cuda.DefaultStream; // queue behind the device's own kernels
            return new CuBlasPeer(blas);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or CuBlasException or InvalidCastException)
        {
            why = $"cuBLAS could not be loaded: {e.Message}";
            return null;
        }
    }

    /// <summary>
    /// C ← α·op(A)·op(B) + β·C for row-major tensors on the CUDA device. cuBLAS is column-major, where a row-major X
    /// reads as Xᵀ; so this asks it for Cᵀ = op(B)ᵀ·op(A)ᵀ, swapping the operands instead of transposing anything.
    /// </summary>
    public void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha, Tensor<float> a, Tensor<float> b, float beta, Tensor<float> c)
    {
        var opA = transA ? CuBlasOperation.Transpose : CuBlasOperation.NonTranspose;
        var opB = transB ? CuBlasOperation.Transpose : CuBlasOperation.NonTranspose;
        _blas.Gemm(opB, opA, n, m, k, alpha, View(b), (int)b.RowStride, View(a), (int)a.RowStride, beta, View(c), (int)c.RowStride);
    }

    private static ILGPU.ArrayView<float> View(Tensor<float> t) => ((IlgpuStorage<float>)t.Storage).ViewFrom(t.Offset);

    public void Dispose() => _blas.Dispose();
}
