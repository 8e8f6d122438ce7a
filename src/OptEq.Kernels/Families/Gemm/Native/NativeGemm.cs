using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace OptEq.Kernels.Native;

/// <summary>
/// C ← α·op(A)·op(B) + β·C on host pointers, row-major with leading dimensions; op(A) is m×k. When β is zero, C is not read.
/// float32 on AVX-512 runs the packed, register-blocked kernel (<see cref="SgemmDriver"/>) on all cores; other types and
/// CPUs run <see cref="SimpleGemm"/>.
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
        if (typeof(T) == typeof(float) && Avx512F.IsSupported)
            Sgemm(transA, transB, m, n, k, Unsafe.As<T, float>(ref alpha), (float*)a, lda, (float*)b, ldb, Unsafe.As<T, float>(ref beta), (float*)c, ldc);
        else
            SimpleGemm.Run(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    /// <summary>The packed float32 GEMM (needs AVX-512).</summary>
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
        var problem = new SgemmProblem
        {
            TransA = transA, TransB = transB, M = m, N = n, K = k, Alpha = alpha, Beta = beta,
            A = a, B = b, C = c, Lda = lda, Ldb = ldb, Ldc = ldc, Epilogue = epilogue,
        };
        if ((long)m * n * k < ParallelThreshold || WorkerTeam.MaxParts == 1)
            SgemmDriver.Run(problem, 0, m, 0, n, SgemmWorkspace.ForCurrentThread);
        else
            WorkerTeam.Run(&RunPart, &problem, WorkerTeam.MaxParts);
    }

    /// <summary>
    /// One thread's share: a static partition of C into column strips (each thread packs its own B strip and all of A)
    /// or, when columns divide worse, row strips (each packs its own A strip and all of B). Columns are split in units
    /// of 16, the narrowest micro-tile, so strips stay balanced; e.g. 44 columns split 32 + 12, so 44×44 goes by rows.
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
            SgemmDriver.Run(p, 0, p.M, first * unit, Math.Min(p.N, (first + count) * unit), SgemmWorkspace.ForCurrentThread);
        }
        else
        {
            var (rowStart, rows) = SgemmBlocking.Block(p.M, parts, part);
            SgemmDriver.Run(p, rowStart, rowStart + rows, 0, p.N, SgemmWorkspace.ForCurrentThread);
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
