using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace OptEq.Kernels.Native;

/// <summary>
/// Copies a 16×16 float block transposed, through registers: the packing routines whose source runs the other way
/// (A not transposed, B transposed) use it instead of 256 scalar strided stores. 16 loads, 64 shuffles, 16 stores.
/// </summary>
internal static unsafe class Transpose16x16
{
    /// <summary>
    /// dst[j·dstStride + i] = src[i·srcStride + j] for i &lt; rows and j &lt; cols (source rows past <paramref name="rows"/>
    /// read as zero; only the first <paramref name="cols"/> floats of each source row are read). Each destination row is
    /// stored as 16 floats, in increasing order, so a dstStride below 16 works: the spare lanes of one row are then
    /// overwritten by the next, and the last row's 16 − dstStride spare floats land past the block.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // too large to inline; optimised from the first call
    public static void Copy(float* src, long srcStride, int rows, int cols, float* dst, long dstStride)
    {
        var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(cols)).AsSingle();
        var r0 = Row(src, srcStride, rows, mask, 0); var r1 = Row(src, srcStride, rows, mask, 1);
        var r2 = Row(src, srcStride, rows, mask, 2); var r3 = Row(src, srcStride, rows, mask, 3);
        var r4 = Row(src, srcStride, rows, mask, 4); var r5 = Row(src, srcStride, rows, mask, 5);
        var r6 = Row(src, srcStride, rows, mask, 6); var r7 = Row(src, srcStride, rows, mask, 7);
        var r8 = Row(src, srcStride, rows, mask, 8); var r9 = Row(src, srcStride, rows, mask, 9);
        var r10 = Row(src, srcStride, rows, mask, 10); var r11 = Row(src, srcStride, rows, mask, 11);
        var r12 = Row(src, srcStride, rows, mask, 12); var r13 = Row(src, srcStride, rows, mask, 13);
        var r14 = Row(src, srcStride, rows, mask, 14); var r15 = Row(src, srcStride, rows, mask, 15);

        // Stage 1: interleave 32-bit elements of row pairs within each 128-bit lane.
        var t0 = Avx512F.UnpackLow(r0, r1); var t1 = Avx512F.UnpackHigh(r0, r1);
        var t2 = Avx512F.UnpackLow(r2, r3); var t3 = Avx512F.UnpackHigh(r2, r3);
        var t4 = Avx512F.UnpackLow(r4, r5); var t5 = Avx512F.UnpackHigh(r4, r5);
        var t6 = Avx512F.UnpackLow(r6, r7); var t7 = Avx512F.UnpackHigh(r6, r7);
        var t8 = Avx512F.UnpackLow(r8, r9); var t9 = Avx512F.UnpackHigh(r8, r9);
        var t10 = Avx512F.UnpackLow(r10, r11); var t11 = Avx512F.UnpackHigh(r10, r11);
        var t12 = Avx512F.UnpackLow(r12, r13); var t13 = Avx512F.UnpackHigh(r12, r13);
        var t14 = Avx512F.UnpackLow(r14, r15); var t15 = Avx512F.UnpackHigh(r14, r15);

        // Stage 2: interleave 64-bit pairs. u{g}{c}: lane L holds column 4L + c of rows 4g..4g+3.
        var u00 = Lo64(t0, t2); var u01 = Hi64(t0, t2); var u02 = Lo64(t1, t3); var u03 = Hi64(t1, t3);
        var u10 = Lo64(t4, t6); var u11 = Hi64(t4, t6); var u12 = Lo64(t5, t7); var u13 = Hi64(t5, t7);
        var u20 = Lo64(t8, t10); var u21 = Hi64(t8, t10); var u22 = Lo64(t9, t11); var u23 = Hi64(t9, t11);
        var u30 = Lo64(t12, t14); var u31 = Hi64(t12, t14); var u32 = Lo64(t13, t15); var u33 = Hi64(t13, t15);

        // Stages 3 and 4: output row 4L + c gathers lane L of u0c, u1c, u2c, u3c.
        var (o0, o4, o8, o12) = Lanes(u00, u10, u20, u30);
        var (o1, o5, o9, o13) = Lanes(u01, u11, u21, u31);
        var (o2, o6, o10, o14) = Lanes(u02, u12, u22, u32);
        var (o3, o7, o11, o15) = Lanes(u03, u13, u23, u33);

        if (cols == 16)
        {
            Vector512.Store(o0, dst); Vector512.Store(o1, dst + dstStride);
            Vector512.Store(o2, dst + 2 * dstStride); Vector512.Store(o3, dst + 3 * dstStride);
            Vector512.Store(o4, dst + 4 * dstStride); Vector512.Store(o5, dst + 5 * dstStride);
            Vector512.Store(o6, dst + 6 * dstStride); Vector512.Store(o7, dst + 7 * dstStride);
            Vector512.Store(o8, dst + 8 * dstStride); Vector512.Store(o9, dst + 9 * dstStride);
            Vector512.Store(o10, dst + 10 * dstStride); Vector512.Store(o11, dst + 11 * dstStride);
            Vector512.Store(o12, dst + 12 * dstStride); Vector512.Store(o13, dst + 13 * dstStride);
            Vector512.Store(o14, dst + 14 * dstStride); Vector512.Store(o15, dst + 15 * dstStride);
            return;
        }
        // A last, partial block along the source rows: only its first cols output rows exist (cols ≥ 1).
        Vector512.Store(o0, dst);
        if (cols > 1) Vector512.Store(o1, dst + dstStride);
        if (cols > 2) Vector512.Store(o2, dst + 2 * dstStride);
        if (cols > 3) Vector512.Store(o3, dst + 3 * dstStride);
        if (cols > 4) Vector512.Store(o4, dst + 4 * dstStride);
        if (cols > 5) Vector512.Store(o5, dst + 5 * dstStride);
        if (cols > 6) Vector512.Store(o6, dst + 6 * dstStride);
        if (cols > 7) Vector512.Store(o7, dst + 7 * dstStride);
        if (cols > 8) Vector512.Store(o8, dst + 8 * dstStride);
        if (cols > 9) Vector512.Store(o9, dst + 9 * dstStride);
        if (cols > 10) Vector512.Store(o10, dst + 10 * dstStride);
        if (cols > 11) Vector512.Store(o11, dst + 11 * dstStride);
        if (cols > 12) Vector512.Store(o12, dst + 12 * dstStride);
        if (cols > 13) Vector512.Store(o13, dst + 13 * dstStride);
        if (cols > 14) Vector512.Store(o14, dst + 14 * dstStride);
    }

    /// <summary>
    /// Source row r, and a prefetch of the same row 32 floats on: callers walk along the rows in blocks, so each row is a
    /// stream of its own, and rows a stride apart (often 4 KiB) are more streams than the hardware prefetcher follows.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Row(float* src, long stride, int rows, Vector512<float> mask, int r)
    {
        if (r >= rows) return Vector512<float>.Zero;
        Sse.Prefetch0(src + r * stride + 32);
        return Avx512F.MaskLoad(src + r * stride, mask, Vector512<float>.Zero);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector512<float>, Vector512<float>, Vector512<float>, Vector512<float>) Lanes(
        Vector512<float> g0, Vector512<float> g1, Vector512<float> g2, Vector512<float> g3)
    {
        var v0 = Avx512F.Shuffle4x128(g0, g1, 0x88); // lanes 0, 2 of g0, then of g1
        var v1 = Avx512F.Shuffle4x128(g0, g1, 0xDD); // lanes 1, 3
        var v2 = Avx512F.Shuffle4x128(g2, g3, 0x88);
        var v3 = Avx512F.Shuffle4x128(g2, g3, 0xDD);
        return (Avx512F.Shuffle4x128(v0, v2, 0x88), Avx512F.Shuffle4x128(v1, v3, 0x88),
                Avx512F.Shuffle4x128(v0, v2, 0xDD), Avx512F.Shuffle4x128(v1, v3, 0xDD));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Lo64(Vector512<float> a, Vector512<float> b) => Avx512F.UnpackLow(a.AsDouble(), b.AsDouble()).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Hi64(Vector512<float> a, Vector512<float> b) => Avx512F.UnpackHigh(a.AsDouble(), b.AsDouble()).AsSingle();
}
