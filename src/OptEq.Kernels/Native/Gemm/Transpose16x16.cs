using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace OptEq.Kernels.Native;

/// <summary>
/// In-register transpose of a 16×16 float block, used by the packing routines whose source runs the other way
/// (A not transposed, B transposed): 64 shuffles per 256 elements instead of 256 scalar strided stores.
/// </summary>
internal static unsafe class Transpose16x16
{
    /// <summary>dst[j][i] = src[i][j] for 16 vectors of 16 floats; src and dst must not overlap.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run(Vector512<float>* src, Vector512<float>* dst)
    {
        // Stage 1: interleave 32-bit elements of row pairs within each 128-bit lane.
        var t0 = Avx512F.UnpackLow(src[0], src[1]); var t1 = Avx512F.UnpackHigh(src[0], src[1]);
        var t2 = Avx512F.UnpackLow(src[2], src[3]); var t3 = Avx512F.UnpackHigh(src[2], src[3]);
        var t4 = Avx512F.UnpackLow(src[4], src[5]); var t5 = Avx512F.UnpackHigh(src[4], src[5]);
        var t6 = Avx512F.UnpackLow(src[6], src[7]); var t7 = Avx512F.UnpackHigh(src[6], src[7]);
        var t8 = Avx512F.UnpackLow(src[8], src[9]); var t9 = Avx512F.UnpackHigh(src[8], src[9]);
        var t10 = Avx512F.UnpackLow(src[10], src[11]); var t11 = Avx512F.UnpackHigh(src[10], src[11]);
        var t12 = Avx512F.UnpackLow(src[12], src[13]); var t13 = Avx512F.UnpackHigh(src[12], src[13]);
        var t14 = Avx512F.UnpackLow(src[14], src[15]); var t15 = Avx512F.UnpackHigh(src[14], src[15]);

        // Stage 2: interleave 64-bit pairs. u{g}{c}: lane L holds column 4L + c of rows 4g..4g+3.
        var u00 = Lo64(t0, t2); var u01 = Hi64(t0, t2); var u02 = Lo64(t1, t3); var u03 = Hi64(t1, t3);
        var u10 = Lo64(t4, t6); var u11 = Hi64(t4, t6); var u12 = Lo64(t5, t7); var u13 = Hi64(t5, t7);
        var u20 = Lo64(t8, t10); var u21 = Hi64(t8, t10); var u22 = Lo64(t9, t11); var u23 = Hi64(t9, t11);
        var u30 = Lo64(t12, t14); var u31 = Hi64(t12, t14); var u32 = Lo64(t13, t15); var u33 = Hi64(t13, t15);

        // Stages 3 and 4: gather lane L of the four row groups into output row 4L + c.
        Lanes(u00, u10, u20, u30, dst, 0);
        Lanes(u01, u11, u21, u31, dst, 1);
        Lanes(u02, u12, u22, u32, dst, 2);
        Lanes(u03, u13, u23, u33, dst, 3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Lanes(Vector512<float> g0, Vector512<float> g1, Vector512<float> g2, Vector512<float> g3, Vector512<float>* dst, int c)
    {
        var v0 = Avx512F.Shuffle4x128(g0, g1, 0x88); // lanes 0, 2 of g0, then of g1
        var v1 = Avx512F.Shuffle4x128(g0, g1, 0xDD); // lanes 1, 3
        var v2 = Avx512F.Shuffle4x128(g2, g3, 0x88);
        var v3 = Avx512F.Shuffle4x128(g2, g3, 0xDD);
        dst[c] = Avx512F.Shuffle4x128(v0, v2, 0x88);
        dst[4 + c] = Avx512F.Shuffle4x128(v1, v3, 0x88);
        dst[8 + c] = Avx512F.Shuffle4x128(v0, v2, 0xDD);
        dst[12 + c] = Avx512F.Shuffle4x128(v1, v3, 0xDD);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Lo64(Vector512<float> a, Vector512<float> b) => Avx512F.UnpackLow(a.AsDouble(), b.AsDouble()).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Hi64(Vector512<float> a, Vector512<float> b) => Avx512F.UnpackHigh(a.AsDouble(), b.AsDouble()).AsSingle();
}
