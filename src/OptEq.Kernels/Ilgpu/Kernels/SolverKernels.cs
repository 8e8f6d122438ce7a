using System.Numerics;
using ILGPU;

namespace OptEq.Kernels.Ilgpu.Kernels;

/// <summary>
/// The kernels solvers are built from. The per-sample logic is <see cref="SolverBookkeeping"/>, the same scalar code the
/// native backend runs, so both backends decide convergence identically. Elementwise kernels use grid strides; the
/// per-sample kernels use one thread per sample.
/// </summary>
public static class SolverKernels
{
    /// <summary>result ← op(a, b, c, d) elementwise (a generic struct op, like the activations).</summary>
    public static void Map<T, TOp>(TOp op, ArrayView<T> result, long ldr, ArrayView<T> a, long lda, ArrayView<T> b, long ldb,
        ArrayView<T> c, long ldc, ArrayView<T> d, long ldd, int rows, int cols)
        where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IScalarMap<T>
    {
        for (int r = GridStride.FirstRow; r < rows; r += GridStride.RowStep)
            for (int k = GridStride.FirstCol; k < cols; k += GridStride.ColStep)
                result[r * ldr + k] = op.Apply(a[r * lda + k], b[r * ldb + k], c[r * ldc + k], d[r * ldd + k]);
    }

    /// <summary>(a, b, c) ← op(a, b, c, d) elementwise, in place.</summary>
    public static void UpdateInPlace<T, TOp>(TOp op, ArrayView<T> a, long lda, ArrayView<T> b, long ldb, ArrayView<T> c, long ldc, ArrayView<T> d, long ldd, int rows, int cols)
        where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IScalarUpdate<T>
    {
        for (int r = GridStride.FirstRow; r < rows; r += GridStride.RowStep)
            for (int k = GridStride.FirstCol; k < cols; k += GridStride.ColStep)
            {
                var t = op.Apply(a[r * lda + k], b[r * ldb + k], c[r * ldc + k], d[r * ldd + k]);
                a[r * lda + k] = t.A;
                b[r * ldb + k] = t.B;
                c[r * ldc + k] = t.C;
            }
    }

    /// <summary>result[r, :] ← alpha[r]·x[r, :] + beta[r]·y[r, :]; y's row is not read where beta[r] is zero.</summary>
    public static void RowAxpby<T>(ArrayView<T> alpha, ArrayView<T> x, long ldx, ArrayView<T> beta, ArrayView<T> y, long ldy,
        ArrayView<T> result, long ldr, int rows, int cols) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int r = GridStride.FirstRow; r < rows; r += GridStride.RowStep)
        {
            T al = alpha[r], be = beta[r];
            for (int k = GridStride.FirstCol; k < cols; k += GridStride.ColStep)
            {
                T v = al * x[r * ldx + k];
                if (be != T.Zero) v += be * y[r * ldy + k];
                result[r * ldr + k] = v;
            }
        }
    }

    /// <summary>result[r, :] ← condition[r] ≠ 0 ? a[r, :] : b[r, :].</summary>
    public static void SelectRows<T, TCond>(ArrayView<TCond> condition, ArrayView<T> a, long lda, ArrayView<T> b, long ldb,
        ArrayView<T> result, long ldr, int rows, int cols) where T : unmanaged where TCond : unmanaged, INumberBase<TCond>
    {
        for (int r = GridStride.FirstRow; r < rows; r += GridStride.RowStep)
        {
            bool takeA = condition[r] != TCond.Zero;
            for (int k = GridStride.FirstCol; k < cols; k += GridStride.ColStep)
                result[r * ldr + k] = takeA ? a[r * lda + k] : b[r * ldb + k];
        }
    }

    /// <summary>One thread per sample: <see cref="SolverBookkeeping.Track"/> on its state column, then the trace entries.</summary>
    public static void TrackResiduals<T>(ArrayView<T> absSquared, ArrayView<T> normSquared, ArrayView<T> state, ArrayView<T> traceAbs, ArrayView<T> traceRel,
        int iteration, T evaluations, int batch, T absTolerance, T relTolerance, T divergenceFactor, int writeTraces) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = Grid.GlobalIndex.X; i < batch; i += Grid.DimX * Group.DimX)
        {
            var (abs, rel) = SolverBookkeeping.Track(evaluations, absSquared[i], normSquared[i], absTolerance, relTolerance, divergenceFactor,
                ref state[SampleState.Status * batch + i], ref state[SampleState.BestAbs * batch + i], ref state[SampleState.BestRel * batch + i],
                ref state[SampleState.Iterations * batch + i], ref state[SampleState.Improved * batch + i], ref state[SampleState.Active * batch + i],
                ref state[SampleState.LastAbs * batch + i], ref state[SampleState.LastRel * batch + i]);
            if (writeTraces != 0)
            {
                traceAbs[(long)iteration * batch + i] = abs;
                traceRel[(long)iteration * batch + i] = rel;
            }
        }
    }

    /// <summary>One thread per sample: Anderson's bordered system from the Gram matrix (<see cref="SolverBookkeeping.AndersonEntry"/>).</summary>
    public static void AndersonSystem<T>(ArrayView<T> gram, ArrayView<T> system, ArrayView<T> rhs, int batch, int m, int used, T usedAsT, T ridge)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = m + 1;
        for (int s = Grid.GlobalIndex.X; s < batch; s += Grid.DimX * Group.DimX)
        {
            long g0 = (long)s * m * m, a0 = (long)s * n * n, b0 = (long)s * n;
            T trace = T.Zero;
            for (int i = 0; i < used; i++) trace += gram[g0 + i * m + i];
            T meanDiagonal = trace / usedAsT;
            for (int r = 0; r < n; r++)
            {
                for (int c = 0; c < n; c++)
                    system[a0 + r * n + c] = SolverBookkeeping.AndersonEntry(r, c, m, used, ridge, meanDiagonal, r > 0 && c > 0 ? gram[g0 + (r - 1) * m + (c - 1)] : T.Zero);
                rhs[b0 + r] = r == 0 ? T.One : T.Zero;
            }
        }
    }
}
