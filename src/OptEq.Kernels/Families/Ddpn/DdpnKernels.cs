using System.Numerics;
using ILGPU;

namespace OptEq.Kernels.Ilgpu.Kernels;

/// <summary>
/// DDPNOpt's row kernels (reference: <see cref="Reference.ReferenceKernels.DdpnRankOneCorrection"/> and
/// <see cref="Reference.ReferenceKernels.DdpnValueFactor"/>). One group per row (rows taken with a grid stride): the
/// threads fold strided slices of the row's dot product, combine them in shared memory, then write their columns.
/// </summary>
public static class DdpnKernels
{
    /// <summary>The rank-one correction's two scalars in one argument (a stream kernel takes at most 15).</summary>
    public struct CorrectionScalars<T> where T : unmanaged
    {
        public T Epsilon;
        public T Bound;
    }

    /// <summary>
    /// result ← a + h·⟨h, r⟩ + ε·d²·r per row; flags bit 0 / bit 1 clear read a as zero / d as one (their views are
    /// stand-ins). With a and bound ρ &gt; 0 the correction is scaled by min(1, ρ‖a‖/‖c‖) per row (two more reductions).
    /// </summary>
    public static void RankOneCorrection<T>(ArrayView<T> a, long lda, ArrayView<T> h, long ldh, ArrayView<T> r, long ldr, ArrayView<T> d, long ldd,
        ArrayView<T> result, long ldresult, CorrectionScalars<T> scalars, int rows, int cols, int flags) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T epsilon = scalars.Epsilon, bound = scalars.Bound;
        var scratch = SharedMemory.GetDynamic<T>();
        for (int i = Grid.IdxX; i < rows; i += Grid.DimX)
        {
            T partial = T.Zero;
            for (int j = Group.IdxX; j < cols; j += Group.DimX) partial += h[i * ldh + j] * r[i * ldr + j];
            T s = GroupReduce.Reduce<T, SumCombine<T>>(scratch, partial);
            if ((flags & 1) != 0 && bound > T.Zero)
            {
                T an = T.Zero, cn = T.Zero;
                for (int j = Group.IdxX; j < cols; j += Group.DimX)
                {
                    T dj = (flags & 2) != 0 ? d[i * ldd + j] : T.One;
                    T c = h[i * ldh + j] * s + epsilon * dj * dj * r[i * ldr + j], aj = a[i * lda + j];
                    an += aj * aj; cn += c * c;
                }
                an = GroupReduce.Reduce<T, SumCombine<T>>(scratch, an);
                cn = GroupReduce.Reduce<T, SumCombine<T>>(scratch, cn);
                T limit = bound * T.Sqrt(an), norm = T.Sqrt(cn), scale = limit < norm ? limit / norm : T.One;
                for (int j = Group.IdxX; j < cols; j += Group.DimX)
                {
                    T dj = (flags & 2) != 0 ? d[i * ldd + j] : T.One;
                    result[i * ldresult + j] = a[i * lda + j] + scale * (h[i * ldh + j] * s + epsilon * dj * dj * r[i * ldr + j]);
                }
                continue;
            }
            for (int j = Group.IdxX; j < cols; j += Group.DimX)
            {
                T dj = (flags & 2) != 0 ? d[i * ldd + j] : T.One;
                T aj = (flags & 1) != 0 ? a[i * lda + j] : T.Zero;
                result[i * ldresult + j] = aj + h[i * ldh + j] * s + epsilon * dj * dj * r[i * ldr + j];
            }
        }
    }

    /// <summary>result[i] ← √max(0, 1 − Σⱼ h²·p) per row.</summary>
    public static void ValueFactor<T>(ArrayView<T> h, long ldh, ArrayView<T> p, long ldp, ArrayView<T> result, int rows, int cols)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var scratch = SharedMemory.GetDynamic<T>();
        for (int i = Grid.IdxX; i < rows; i += Grid.DimX)
        {
            T partial = T.Zero;
            for (int j = Group.IdxX; j < cols; j += Group.DimX) partial += h[i * ldh + j] * h[i * ldh + j] * p[i * ldp + j];
            T s = GroupReduce.Reduce<T, SumCombine<T>>(scratch, partial);
            T rest = T.One - s;
            if (Group.IsFirstThread) result[i] = rest > T.Zero ? T.Sqrt(rest) : T.Zero;
        }
    }

    /// <summary>result[i] ← √max(0, 1 − scale·⟨h, hg⟩·⟨x, xa⟩) per row (two group reductions).</summary>
    public static void KroneckerValueFactor<T>(ArrayView<T> h, long ldh, ArrayView<T> hg, long ldhg, int hcols, ArrayView<T> x, long ldx, ArrayView<T> xa, long ldxa,
        int xcols, T scale, ArrayView<T> result, int rows) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var scratch = SharedMemory.GetDynamic<T>();
        for (int i = Grid.IdxX; i < rows; i += Grid.DimX)
        {
            T partial = T.Zero;
            for (int j = Group.IdxX; j < hcols; j += Group.DimX) partial += h[i * ldh + j] * hg[i * ldhg + j];
            T sh = GroupReduce.Reduce<T, SumCombine<T>>(scratch, partial);
            partial = T.Zero;
            for (int j = Group.IdxX; j < xcols; j += Group.DimX) partial += x[i * ldx + j] * xa[i * ldxa + j];
            T sx = GroupReduce.Reduce<T, SumCombine<T>>(scratch, partial);
            T rest = T.One - scale * sh * sx;
            if (Group.IsFirstThread) result[i] = rest > T.Zero ? T.Sqrt(rest) : T.Zero;
        }
    }
}
