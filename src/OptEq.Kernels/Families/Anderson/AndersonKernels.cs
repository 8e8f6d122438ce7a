using System.Numerics;
using ILGPU;

namespace OptEq.Kernels.Ilgpu.Kernels;

/// <summary>
/// Anderson's fused update and mix (references: <see cref="Reference.ReferenceKernels.AndersonUpdate"/> and
/// <see cref="Reference.ReferenceKernels.AndersonMix"/>). The update runs one group per sample: its threads write the
/// slot and fold the two norms and then each Gram entry over a strided slice of the row, combined in shared memory.
/// The mix is elementwise over a 2-D grid.
/// </summary>
public static class AndersonKernels
{
    public static void Update<T>(ArrayView<T> z, long ldz, ArrayView<T> fz, long ldf, ArrayView<T> iterates, ArrayView<T> residuals,
        ArrayView<T> gram, ArrayView<T> absSquared, ArrayView<T> normSquared, AndersonShape shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var scratch = SharedMemory.GetDynamic<T>();
        int m = shape.Memory, d = shape.Dimension, slot = shape.Slot;
        for (int b = Grid.IdxX; b < shape.Batch; b += Grid.DimX)
        {
            long row = ((long)b * m + slot) * d;
            T abs = T.Zero, norm = T.Zero;
            for (int c = Group.IdxX; c < d; c += Group.DimX)
            {
                T zc = z[b * ldz + c], fc = fz[b * ldf + c], rc = fc - zc;
                iterates[row + c] = zc;
                residuals[row + c] = rc;
                abs += rc * rc;
                norm += fc * fc;
            }
            abs = GroupReduce.Reduce<T, SumCombine<T>>(scratch, abs);
            norm = GroupReduce.Reduce<T, SumCombine<T>>(scratch, norm);
            long g = (long)b * m * m;
            if (Group.IsFirstThread)
            {
                absSquared[b] = abs;
                normSquared[b] = norm;
                gram[g + slot * m + slot] = abs;
            }
            for (int i = 0; i < shape.Used; i++)
            {
                if (i == slot) continue; // the same for every thread of the group, so the reduction's barriers stay uniform
                long other = ((long)b * m + i) * d;
                T dot = T.Zero;
                // Each thread reads back only the elements of the new residual it wrote itself: no barrier needed.
                for (int c = Group.IdxX; c < d; c += Group.DimX) dot += residuals[row + c] * residuals[other + c];
                dot = GroupReduce.Reduce<T, SumCombine<T>>(scratch, dot);
                if (Group.IsFirstThread)
                {
                    gram[g + slot * m + i] = dot;
                    gram[g + i * m + slot] = dot;
                }
            }
        }
    }

    public static void Mix<T>(ArrayView<T> alpha, long ldAlpha, ArrayView<int> status, ArrayView<T> active, ArrayView<T> iterates, ArrayView<T> residuals,
        ArrayView<T> fz, long ldf, T beta, ArrayView<T> z, long ldz, AndersonShape shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int m = shape.Memory, d = shape.Dimension;
        for (int b = GridStride.FirstRow; b < shape.Batch; b += GridStride.RowStep)
        {
            if (active[b] == T.Zero) continue;
            bool plain = status[b] != 0;
            for (int c = GridStride.FirstCol; c < d; c += GridStride.ColStep)
            {
                T value;
                if (plain) value = fz[b * ldf + c];
                else
                {
                    value = T.Zero;
                    for (int i = 0; i < shape.Used; i++)
                    {
                        T a = alpha[b * ldAlpha + i];
                        long at = ((long)b * m + i) * d + c;
                        value += a * iterates[at] + beta * a * residuals[at];
                    }
                }
                z[b * ldz + c] = value;
            }
        }
    }

    /// <summary>One thread per sample: Anderson's bordered system from the Gram matrix (<see cref="AndersonBordered.Entry{T}"/>).</summary>
    public static void BorderedSystem<T>(ArrayView<T> gram, ArrayView<T> system, ArrayView<T> rhs, int batch, int m, int used, T usedAsT, T ridge)
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
                    system[a0 + r * n + c] = AndersonBordered.Entry(r, c, m, used, ridge, meanDiagonal, r > 0 && c > 0 ? gram[g0 + (r - 1) * m + (c - 1)] : T.Zero);
                rhs[b0 + r] = r == 0 ? T.One : T.Zero;
            }
        }
    }
}
