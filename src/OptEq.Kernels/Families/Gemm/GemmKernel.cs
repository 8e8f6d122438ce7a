using System.Numerics;
using ILGPU;
using OptEq.Kernels.Activations;

namespace OptEq.Kernels.Ilgpu.Kernels;

/// <summary>Sizes, strides and scalars of one GEMM launch (ILGPU kernel parameters cannot be bool, hence the int flags).</summary>
public struct GemmArgs<T> where T : unmanaged
{
    public int M, N, K, Batch;
    public int TransA, TransB;
    /// <summary>Row strides (leading dimensions) of the stored A, B, C.</summary>
    public long Lda, Ldb, Ldc;
    /// <summary>Element distance between batches; 0 for an operand shared by every batch.</summary>
    public long BatchStrideA, BatchStrideB, BatchStrideC;
    public T Alpha, Beta;
}

/// <summary>Four values in registers: one row or one column of a thread's 4 × 4 block.</summary>
public struct Vec4<T>(T v0, T v1, T v2, T v3) where T : unmanaged
{
    public T V0 = v0, V1 = v1, V2 = v2, V3 = v3;
}

/// <summary>A thread's 4 × 4 block of C accumulators, kept in registers (a struct of scalars, not an indexed array).</summary>
public struct Block4x4<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public Vec4<T> R0, R1, R2, R3;

    /// <summary>Block += a·bᵀ: a is the thread's four rows of a column of op(A), b its four columns of a row of op(B).</summary>
    public void AddOuterProduct(Vec4<T> a, Vec4<T> b)
    {
        R0.V0 += a.V0 * b.V0; R0.V1 += a.V0 * b.V1; R0.V2 += a.V0 * b.V2; R0.V3 += a.V0 * b.V3;
        R1.V0 += a.V1 * b.V0; R1.V1 += a.V1 * b.V1; R1.V2 += a.V1 * b.V2; R1.V3 += a.V1 * b.V3;
        R2.V0 += a.V2 * b.V0; R2.V1 += a.V2 * b.V1; R2.V2 += a.V2 * b.V2; R2.V3 += a.V2 * b.V3;
        R3.V0 += a.V3 * b.V0; R3.V1 += a.V3 * b.V1; R3.V2 += a.V3 * b.V2; R3.V3 += a.V3 * b.V3;
    }
}

/// <summary>How a GEMM writes one finished element of C (ILGPU specialises the kernel per store type).</summary>
public interface IGemmStore<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Writes C[row, col] (at <paramref name="index"/> in c) from the product's <paramref name="sum"/>.</summary>
    void Store(ArrayView<T> c, ArrayView<T> addend, ArrayView<T> derivative, GemmArgs<T> p, long index, int row, int col, T sum);
}

/// <summary>C ← α·sum + β·C; β = 0 does not read C, so whatever it holds (NaN included) cannot leak into the result.</summary>
public struct PlainGemmStore<T> : IGemmStore<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public void Store(ArrayView<T> c, ArrayView<T> addend, ArrayView<T> derivative, GemmArgs<T> p, long index, int row, int col, T sum)
        => c[index] = p.Beta == T.Zero ? p.Alpha * sum : p.Alpha * sum + p.Beta * c[index];
}

/// <summary>
/// The prox epilogue of <see cref="GemmExtensions.GemmProx{T}"/> (one matrix, no batch): v = α·sum + addend[row, col] (row stride 0:
/// a bias), C ← σ(v) and derivative ← σ′(v), in the order the unfused kernels compute them.
/// </summary>
public struct ProxGemmStore<T, TAct> : IGemmStore<T> where T : unmanaged, IFloatingPointIeee754<T> where TAct : struct, IProxActivation<T>
{
    public TAct Activation;
    public long LdAddend, LdDerivative;
    public int HasAddend, HasDerivative;

    public void Store(ArrayView<T> c, ArrayView<T> addend, ArrayView<T> derivative, GemmArgs<T> p, long index, int row, int col, T sum)
    {
        T v = p.Alpha * sum;
        if (HasAddend != 0) v += addend[row * LdAddend + col];
        if (HasDerivative != 0) derivative[row * LdDerivative + col] = Activation.Derivative(v);
        c[index] = Activation.Value(v);
    }
}

/// <summary>
/// C ← α·op(A)·op(B) + β·C, batched (reference: <see cref="Reference.ReferenceKernels.Gemm"/>), or with the prox epilogue
/// of <see cref="ProxGemmStore{T,TAct}"/> (reference: <see cref="Reference.ReferenceKernels.GemmPreActivation"/> and Prox).
///
/// Grid: x = tile column of C, y = tile row (grid-stride), z = batch (grid-stride). A group owns a TileM × TileN tile of
/// C and walks k in slices of TileK: all its threads stage the slice of op(A) (TileM × TileK) and of op(B)
/// (TileK × TileN) in shared memory, zero outside the matrices, then each thread accumulates its 4 × 4 block from
/// shared memory. Thread (ty, tx) owns rows ty + i·TY and columns tx + j·TX (i, j &lt; 4; TX = TileN/4, TY = TileM/4):
/// consecutive threads hit consecutive shared addresses in B and consecutive columns of C, so the shared reads are free
/// of bank conflicts and the stores of C coalesce.
///
/// The slices are stored k-major (tileA[kk][row], tileB[kk][col]) with one padding element per k-row: loads that run along k
/// (A not transposed, B transposed) then spread over the banks instead of all hitting one.
/// </summary>
public static class GemmKernel
{
    /// <summary>
    /// One tile of C per group. <c>addend</c> is the epilogue's addend and <c>derivative</c> its σ′ output; for the plain
    /// store they are stand-ins that are never read or written.
    /// </summary>
    public static void Run<T, TTile, TStore>(ArrayView<T> a, ArrayView<T> b, ArrayView<T> c, ArrayView<T> addend, ArrayView<T> derivative,
        GemmArgs<T> p, TStore store)
        where T : unmanaged, IFloatingPointIeee754<T> where TTile : struct, IGemmTiling where TStore : struct, IGemmStore<T>
    {
        var tiling = default(TTile);
        int bm = tiling.TileM, bn = tiling.TileN, bk = tiling.TileK;
        int pitchA = bm + 1, pitchB = bn + 1;
        var tileA = SharedMemory.Allocate<T>(tiling.TileK * (tiling.TileM + 1));
        var tileB = SharedMemory.Allocate<T>(tiling.TileK * (tiling.TileN + 1));

        int threadsX = bn / 4, threadsY = bm / 4, threads = threadsX * threadsY;
        int tid = Group.IdxX, tx = tid % threadsX, ty = tid / threadsX;
        int col0 = Grid.IdxX * bn;
        int tilesM = (p.M + bm - 1) / bm;

        for (int s = Grid.IdxZ; s < p.Batch; s += Grid.DimZ)
            for (int tm = Grid.IdxY; tm < tilesM; tm += Grid.DimY)
            {
                int row0 = tm * bm;
                long baseA = s * p.BatchStrideA, baseB = s * p.BatchStrideB, baseC = s * p.BatchStrideC;
                var acc = new Block4x4<T>();

                for (int k0 = 0; k0 < p.K; k0 += bk)
                {
                    // Stage op(A)[row0.., k0..] into tileA[kk][r]; the index runs along the stored rows so loads coalesce.
                    for (int e = tid; e < bm * bk; e += threads)
                    {
                        int r, kk;
                        if (p.TransA == 0) { r = e / bk; kk = e % bk; } // A is m × k: k is contiguous
                        else { kk = e / bm; r = e % bm; }             // A is k × m: m is contiguous
                        int row = row0 + r, k = k0 + kk;
                        T v = T.Zero;
                        if (row < p.M && k < p.K)
                            v = p.TransA == 0 ? a[baseA + row * p.Lda + k] : a[baseA + k * p.Lda + row];
                        tileA[kk * pitchA + r] = v;
                    }
                    // Stage op(B)[k0.., col0..] into tileB[kk][cc].
                    for (int e = tid; e < bk * bn; e += threads)
                    {
                        int cc, kk;
                        if (p.TransB == 0) { kk = e / bn; cc = e % bn; } // B is k × n: n is contiguous
                        else { cc = e / bk; kk = e % bk; }             // B is n × k: k is contiguous
                        int col = col0 + cc, k = k0 + kk;
                        T v = T.Zero;
                        if (col < p.N && k < p.K)
                            v = p.TransB == 0 ? b[baseB + k * p.Ldb + col] : b[baseB + col * p.Ldb + k];
                        tileB[kk * pitchB + cc] = v;
                    }
                    Group.Barrier();

                    for (int kk = 0; kk < bk; kk++)
                    {
                        int ra = kk * pitchA + ty, rb = kk * pitchB + tx;
                        acc.AddOuterProduct(
                            new Vec4<T>(tileA[ra], tileA[ra + threadsY], tileA[ra + 2 * threadsY], tileA[ra + 3 * threadsY]),
                            new Vec4<T>(tileB[rb], tileB[rb + threadsX], tileB[rb + 2 * threadsX], tileB[rb + 3 * threadsX]));
                    }
                    Group.Barrier(); // everyone is done with the slices before they are overwritten
                }

                int rowT = row0 + ty, colT = col0 + tx;
                StoreRow(store, c, addend, derivative, p, baseC, rowT, colT, threadsX, acc.R0);
                StoreRow(store, c, addend, derivative, p, baseC, rowT + threadsY, colT, threadsX, acc.R1);
                StoreRow(store, c, addend, derivative, p, baseC, rowT + 2 * threadsY, colT, threadsX, acc.R2);
                StoreRow(store, c, addend, derivative, p, baseC, rowT + 3 * threadsY, colT, threadsX, acc.R3);
            }
    }

    /// <summary>Writes one row of a thread's block: columns col, col + step, col + 2·step, col + 3·step, those inside C.</summary>
    private static void StoreRow<T, TStore>(TStore store, ArrayView<T> c, ArrayView<T> addend, ArrayView<T> derivative, GemmArgs<T> p,
        long baseC, int row, int col, int step, Vec4<T> v)
        where T : unmanaged, IFloatingPointIeee754<T> where TStore : struct, IGemmStore<T>
    {
        if (row >= p.M) return;
        long rowBase = baseC + row * p.Ldc;
        if (col < p.N) store.Store(c, addend, derivative, p, rowBase + col, row, col, v.V0);
        if (col + step < p.N) store.Store(c, addend, derivative, p, rowBase + col + step, row, col + step, v.V1);
        if (col + 2 * step < p.N) store.Store(c, addend, derivative, p, rowBase + col + 2 * step, row, col + 2 * step, v.V2);
        if (col + 3 * step < p.N) store.Store(c, addend, derivative, p, rowBase + col + 3 * step, row, col + 3 * step, v.V3);
    }
}
