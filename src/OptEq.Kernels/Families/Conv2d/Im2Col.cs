using System.Numerics;
using System.Runtime.Intrinsics;

namespace OptEq.Kernels.Native;

/// <summary>
/// The column matrix of one sample and its adjoint, on host pointers. Row r = (c·KH + i)·KW + j of the matrix
/// [InChannels·KH·KW, OutHeight·OutWidth] holds, for every output pixel (y, x), the input pixel that kernel tap (c, i, j)
/// meets there: input[c, y·s − p + i, x·s − p + j], zero or wrapped outside the image. Then conv = W·col and
/// convᵀ = col2im(Wᵀ·gradOut). Each output row splits into a left edge, a run of pixels inside the image (a copy for
/// stride 1) and a right edge, so the inner loops carry no bounds checks.
/// </summary>
internal static unsafe class Im2Col
{
    /// <summary>The output columns [Lo, Hi) whose input column x·s + offset lies inside [0, size).</summary>
    private static (int Lo, int Hi) Inside(int offset, int size, int stride, int outSize)
    {
        int lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
        int hi = size - offset <= 0 ? 0 : (size - offset + stride - 1) / stride;
        return (Math.Min(lo, outSize), Math.Min(hi, outSize));
    }

    /// <summary>col [WeightColumns, OutPixels] ← the column matrix of one sample x [InChannels·H·W].</summary>
    public static void Gather<T>(in Conv2dGeometry g, T* x, T* col) where T : unmanaged, INumberBase<T>
    {
        int h = g.Height, w = g.Width, s = g.Stride, p = g.Padding, oh = g.OutHeight, ow = g.OutWidth;
        bool circular = g.PaddingMode == ConvPadding.Circular;
        T* dst = col;
        for (int c = 0; c < g.InChannels; c++)
        {
            T* plane = x + (long)c * h * w;
            for (int i = 0; i < g.KernelHeight; i++)
                for (int j = 0; j < g.KernelWidth; j++, dst += oh * ow)
                {
                    int offset = j - p;
                    var (lo, hi) = Inside(offset, w, s, ow);
                    for (int y = 0; y < oh; y++)
                    {
                        T* d = dst + y * ow;
                        int row = y * s - p + i;
                        if ((uint)row >= (uint)h)
                        {
                            if (!circular) { new Span<T>(d, ow).Clear(); continue; }
                            row += row < 0 ? h : -h;
                        }
                        T* src = plane + row * w + offset; // src[q·s] is input column q·s + offset
                        for (int q = 0; q < lo; q++) d[q] = circular ? src[q * s + w] : T.Zero;
                        if (s == 1) new ReadOnlySpan<T>(src + lo, hi - lo).CopyTo(new Span<T>(d + lo, hi - lo));
                        else for (int q = lo; q < hi; q++) d[q] = src[q * s];
                        for (int q = hi; q < ow; q++) d[q] = circular ? src[q * s - w] : T.Zero;
                    }
                }
        }
    }

    /// <summary>x [InChannels·H·W] += the adjoint of <see cref="Gather{T}"/> applied to col: each entry added back to the pixel it came from.</summary>
    public static void ScatterAdd<T>(in Conv2dGeometry g, T* col, T* x) where T : unmanaged, INumberBase<T>
        => ScatterAdd(g, col, (long)g.OutHeight * g.OutWidth, x);

    /// <summary>As <see cref="ScatterAdd{T}(in Conv2dGeometry, T*, T*)"/>, the column matrix's rows <paramref name="ldCol"/> apart (one sample's block of a wider matrix).</summary>
    public static void ScatterAdd<T>(in Conv2dGeometry g, T* col, long ldCol, T* x) where T : unmanaged, INumberBase<T>
    {
        int h = g.Height, w = g.Width, s = g.Stride, p = g.Padding, oh = g.OutHeight, ow = g.OutWidth;
        bool circular = g.PaddingMode == ConvPadding.Circular;
        T* src = col;
        for (int c = 0; c < g.InChannels; c++)
        {
            T* plane = x + (long)c * h * w;
            for (int i = 0; i < g.KernelHeight; i++)
                for (int j = 0; j < g.KernelWidth; j++, src += ldCol)
                {
                    int offset = j - p;
                    var (lo, hi) = Inside(offset, w, s, ow);
                    for (int y = 0; y < oh; y++)
                    {
                        T* d = src + y * ow;
                        int row = y * s - p + i;
                        if ((uint)row >= (uint)h)
                        {
                            if (!circular) continue;
                            row += row < 0 ? h : -h;
                        }
                        T* dst = plane + row * w + offset;
                        if (circular) for (int q = 0; q < lo; q++) dst[q * s + w] += d[q];
                        if (s == 1) Add(d + lo, dst + lo, hi - lo);
                        else for (int q = lo; q < hi; q++) dst[q * s] += d[q];
                        if (circular) for (int q = hi; q < ow; q++) dst[q * s - w] += d[q];
                    }
                }
        }
    }

    /// <summary>y[0..n) += x[0..n), at the vector width <see cref="SimdWidth.Current"/> allows.</summary>
    private static void Add<T>(T* x, T* y, int n) where T : unmanaged, INumberBase<T>
    {
        int k = 0;
        var width = SimdWidth.Current;
        if (width >= VectorWidth.Bits256)
            for (; k <= n - Vector256<T>.Count; k += Vector256<T>.Count)
                Vector256.Store(Vector256.Load(y + k) + Vector256.Load(x + k), y + k);
        if (width >= VectorWidth.Bits128)
            for (; k <= n - Vector128<T>.Count; k += Vector128<T>.Count)
                Vector128.Store(Vector128.Load(y + k) + Vector128.Load(x + k), y + k);
        for (; k < n; k++) y[k] += x[k];
    }
}
