using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace OptEq.Kernels.Native;

/// <summary>
/// C ← α·op(A)·op(B) + β·C on host pointers, row-major with leading dimensions; op(A) is m×k. When β is zero, C is not read.
/// float32 runs a packed, register-blocked kernel on all cores, chosen by vector width (<see cref="KernelFor"/>): the 14×32
/// AVX-512 kernel (<see cref="SgemmDriver"/>), else the 6×16 256-bit or the 6×8 128-bit kernel (<see cref="PackedSgemmDriver"/>).
/// Other types, and CPUs without SIMD acceleration, run <see cref="SimpleGemm"/>.
/// </summary>
public static unsafe class NativeGemm
{
    /// <summary>
    /// Below this many multiply-adds (m·n·k, about 40³) one thread does the whole call: handing half to the worker
    /// and packing a second copy of the shared operand cost more than the second core saves. Measured with the worker
    /// awake (calls back to back): two threads win from about 40³ (48³: 0.94 µs against 1.33 µs on one).
    /// </summary>
    public const long ParallelThreshold = 1L << 16;

    public static void Gemm<T>(bool transA, bool transB, int m, int n, int k, T alpha,
        T* a, long lda, T* b, long ldb, T beta, T* c, long ldc) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (m <= 0 || n <= 0) return;
        if (typeof(T) == typeof(float) && KernelFor(SimdWidth.Current) is { } kernel && (kernel == SgemmKernel.Avx512 || !IsTiny(m, n, k)))
            Sgemm(transA, transB, m, n, k, Unsafe.As<T, float>(ref alpha), (float*)a, lda, (float*)b, ldb, Unsafe.As<T, float>(ref beta), (float*)c, ldc);
        else
            SimpleGemm.Run(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    /// <summary>
    /// Too small for the 6-row kernels to pay for packing and whole padded tiles: Anderson's per-sample products (1×5×95:
    /// 0.5 µs in <see cref="SimpleGemm"/>, 1.8 µs packed) and anything of one or two rows. Measured single-threaded at
    /// 256 bits; the AVX-512 kernel, with its variable-height panels, keeps every size as before.
    /// </summary>
    private static bool IsTiny(int m, int n, int k) => m < 3 || (long)m * n * k < 16384;

    /// <summary>
    /// The packed float32 kernel for a vector width, or null where none runs (scalar only). AVX-512 is chosen exactly as
    /// before there were other kernels: whenever the CPU has AVX512F, unless a test lowered the width.
    /// </summary>
    internal static SgemmKernel? KernelFor(VectorWidth width) =>
        Avx512F.IsSupported && width == SimdWidth.Hardware ? SgemmKernel.Avx512
        : width >= VectorWidth.Bits256 ? SgemmKernel.Vector256
        : width >= VectorWidth.Bits128 ? SgemmKernel.Vector128
        : null;

    /// <summary>The packed float32 GEMM (the kernel of the current vector width; needs SIMD acceleration).</summary>
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, long lda, float* b, long ldb, float beta, float* c, long ldc)
        => Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, null);

    /// <summary>The packed float32 GEMM; with an epilogue, each finished tile of C goes through it (see <see cref="SgemmEpilogue"/>).</summary>
    internal static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, long lda, float* b, long ldb, float beta, float* c, long ldc, SgemmEpilogue* epilogue)
    {
        if (m <= 0 || n <= 0) return;
        if (k == 0)
        {
            if (epilogue != null) throw new ArgumentException("sgemm: an epilogue needs k ≥ 1 (the caller composes k = 0 itself)");
            ScaleRows(m, n, beta, c, ldc);
            return;
        }
        var kernel = KernelFor(SimdWidth.Current) ?? throw new PlatformNotSupportedException("sgemm: no packed kernel runs without SIMD acceleration");
        var problem = new SgemmProblem
        {
            Kernel = kernel,
            TransA = transA, TransB = transB, M = m, N = n, K = k, Alpha = alpha, Beta = beta,
            A = a, B = b, C = c, Lda = lda, Ldb = ldb, Ldc = ldc, Epilogue = epilogue,
        };
        if ((long)m * n * k < ParallelThreshold || WorkerTeam.MaxParts == 1)
            RunStrip(problem, 0, m, 0, n);
        else
            WorkerTeam.Run(&RunPart, &problem, WorkerTeam.MaxParts);
    }

    /// <summary>
    /// One thread's share: a static partition of C into column strips (each thread packs its own B strip and all of A)
    /// or, when columns divide worse, row strips (each packs its own A strip and all of B). Columns are split in units
    /// of 16 (a whole number of micro-tiles at every width), so strips stay balanced; e.g. 44 columns split 32 + 12, so 44×44 goes by rows.
    /// </summary>
    private static void RunPart(void* state, int part, int parts)
    {
        ref readonly var p = ref *(SgemmProblem*)state;
        const int unit = 16;
        int colUnits = (p.N + unit - 1) / unit;
        // Largest strip over the even share, for each way of splitting (1 = perfectly balanced).
        double colImbalance = (double)SgemmBlocking.BlockCount(colUnits, parts) * parts / colUnits;
        double rowImbalance = (double)SgemmBlocking.BlockCount(p.M, parts) * parts / p.M;
        if (colImbalance <= rowImbalance)
        {
            var (first, count) = SgemmBlocking.Block(colUnits, parts, part);
            RunStrip(p, 0, p.M, first * unit, Math.Min(p.N, (first + count) * unit));
        }
        else
        {
            var (rowStart, rows) = SgemmBlocking.Block(p.M, parts, part);
            RunStrip(p, rowStart, rowStart + rows, 0, p.N);
        }
    }

    /// <summary>One rectangle of C on the calling thread, by the problem's kernel.</summary>
    private static void RunStrip(in SgemmProblem p, int rowStart, int rowEnd, int colStart, int colEnd)
    {
        var workspace = SgemmWorkspace.ForCurrentThread;
        switch (p.Kernel)
        {
            case SgemmKernel.Avx512: SgemmDriver.Run(p, rowStart, rowEnd, colStart, colEnd, workspace); break;
            case SgemmKernel.Vector256: PackedSgemmDriver.Run<SgemmTile6x16>(p, rowStart, rowEnd, colStart, colEnd, workspace); break;
            default: PackedSgemmDriver.Run<SgemmTile6x8>(p, rowStart, rowEnd, colStart, colEnd, workspace); break;
        }
    }

    /// <summary>C ← β·C (C ← 0 when β is zero, without reading C): the whole GEMM when k is zero.</summary>
    private static void ScaleRows(int m, int n, float beta, float* c, long ldc)
    {
        for (int i = 0; i < m; i++)
        {
            var row = new Span<float>(c + i * ldc, n);
            if (beta == 0) row.Clear();
            else if (beta != 1) foreach (ref var x in row) x *= beta;
        }
    }
}
