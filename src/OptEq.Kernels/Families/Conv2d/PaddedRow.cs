using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace OptEq.Kernels.Native;

/// <summary>
/// One row of a padded image as the native direct kernels stage it (<see cref="DirectConv"/>, <see cref="WinogradConv"/>,
/// <see cref="PolyphaseConv"/>): which image row it shows, its border (zeros or the image wrapped around) around that
/// row, and its split into even and odd columns.
/// </summary>
internal static unsafe class PaddedRow
{
    /// <summary>
    /// The image row that padded row <paramref name="r"/> shows (rows of <paramref name="width"/> floats from
    /// <paramref name="plane"/>, the image <paramref name="height"/> rows high, <paramref name="padding"/> rows above), or
    /// null for a row of zeros: the border with zero padding, or past the padded image.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float* Source(float* plane, int r, int height, int width, int padding, bool circular)
    {
        int row = r - padding;
        if ((uint)row < (uint)height) return plane + (long)row * width;
        if (!circular || r < 0 || r >= height + 2 * padding) return null;
        // Circular padding is at most the image's height (Conv2dGeometry checks), so one wrap reaches the image.
        return plane + (long)(row < 0 ? row + height : row - height) * width;
    }

    /// <summary>row[0..width + 2·padding) ← the border, source[0..width), the border (zeros, or the row wrapped around).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Fill(float* source, int width, int padding, bool circular, float* row)
    {
        for (int k = 0; k < padding; k++) row[k] = circular ? source[width - padding + k] : 0f;
        Copy(source, row + padding, width);
        for (int k = 0; k < padding; k++) row[padding + width + k] = circular ? source[k] : 0f;
    }

    /// <summary>dst[0..n) ← src[0..n) in whole vectors, the last one overlapping (a row is too short for a call to memmove to pay).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Copy(float* src, float* dst, int n)
    {
        if (n < 8 || !Avx.IsSupported)
        {
            for (int k = 0; k < n; k++) dst[k] = src[k];
            return;
        }
        for (int k = 0; k < n - 8; k += 8) Avx.Store(dst + k, Avx.LoadVector256(src + k));
        Avx.Store(dst + n - 8, Avx.LoadVector256(src + n - 8));
    }

    /// <summary>even[k] ← row[2k], odd[k] ← row[2k + 1] for k &lt; n (row holds 2n + 8 readable entries).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Deinterleave(float* row, int n, float* even, float* odd)
    {
        int k = 0;
        for (; k + 8 <= n; k += 8)
        {
            var (e, o) = Deinterleave(Avx.LoadVector256(row + 2 * k), Avx.LoadVector256(row + 2 * k + 8));
            Avx.Store(even + k, e);
            Avx.Store(odd + k, o);
        }
        for (; k < n; k++)
        {
            even[k] = row[2 * k];
            odd[k] = row[2 * k + 1];
        }
    }

    /// <summary>(x0, x2, …, x14), (x1, x3, …, x15) from a = x0..x7, b = x8..x15.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector256<float> Even, Vector256<float> Odd) Deinterleave(Vector256<float> a, Vector256<float> b)
    {
        // Within each 128-bit lane: [a0 a2 b0 b2 | a4 a6 b4 b6]; then the 64-bit quarters reordered to [a0 a2 a4 a6 b0 b2 b4 b6].
        var even = Avx.Shuffle(a, b, 0b10_00_10_00);
        var odd = Avx.Shuffle(a, b, 0b11_01_11_01);
        return (Avx2.Permute4x64(even.AsDouble(), 0b11_01_10_00).AsSingle(), Avx2.Permute4x64(odd.AsDouble(), 0b11_01_10_00).AsSingle());
    }
}
