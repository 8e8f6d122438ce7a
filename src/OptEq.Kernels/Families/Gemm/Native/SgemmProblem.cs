namespace OptEq.Kernels.Native;

/// <summary>One float32 GEMM call, C ← α·op(A)·op(B) + β·C (row-major, op(A) m×k): what every thread of the call reads.</summary>
internal unsafe struct SgemmProblem
{
    public bool TransA, TransB;
    public int M, N, K;
    public float Alpha, Beta;
    public float* A, B, C;
    public long Lda, Ldb, Ldc;
    /// <summary>Applied to each tile of C once its last depth block is done; null: plain GEMM.</summary>
    public SgemmEpilogue* Epilogue;
    /// <summary>Which micro-kernel (vector width) runs the call.</summary>
    public SgemmKernel Kernel;

    /// <summary>Address of op(A)[i, p].</summary>
    public readonly float* AAt(int i, int p) => TransA ? A + p * Lda + i : A + i * Lda + p;

    /// <summary>Address of op(B)[p, j].</summary>
    public readonly float* BAt(int p, int j) => TransB ? B + j * Ldb + p : B + p * Ldb + j;
}

/// <summary>The packed float32 micro-kernels, one per vector width.</summary>
internal enum SgemmKernel
{
    /// <summary>14×32, AVX-512 (<see cref="SgemmMicroKernel"/> with <see cref="SgemmDriver"/>).</summary>
    Avx512,
    /// <summary>6×16, 256-bit vectors (<see cref="SgemmTile6x16"/> with <see cref="PackedSgemmDriver"/>).</summary>
    Vector256,
    /// <summary>6×8, 128-bit vectors (<see cref="SgemmTile6x8"/> with <see cref="PackedSgemmDriver"/>).</summary>
    Vector128,
}
