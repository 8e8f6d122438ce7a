using System.Numerics;
using ILGPU;

namespace OptEq.Kernels.Ilgpu.Kernels;

/// <summary>The sizes of one pooling launch.</summary>
public struct PoolArgs<T> where T : unmanaged
{
    public int Channels, Height, Width, Kernel, Stride, OutHeight, OutWidth, Batch;
    /// <summary>Row strides of the pooled side (output or gradOutput) and of the image side (input or gradInput).</summary>
    public long LdPooled, LdImage;
    public T Beta;
    /// <summary>1 / Kernel², computed on the host.</summary>
    public T Scale;

    internal static PoolArgs<T> Of(in Pool2dGeometry g, int batch, long ldPooled, long ldImage, T beta, T scale) => new()
    {
        Channels = g.Channels, Height = g.Height, Width = g.Width, Kernel = g.Kernel, Stride = g.Stride,
        OutHeight = g.OutHeight, OutWidth = g.OutWidth, Batch = batch, LdPooled = ldPooled, LdImage = ldImage, Beta = beta, Scale = scale,
    };
}

/// <summary>Average pooling, one thread per result element (references: <see cref="Reference.ReferenceKernels.AvgPool2d"/> and its backward).</summary>
public static class Pool2dKernels
{
    public static void AvgPool<T>(ArrayView<T> input, ArrayView<T> output, PoolArgs<T> p) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int pixels = p.OutHeight * p.OutWidth, size = p.Channels * pixels;
        T scale = p.Scale;
        for (int b = GridStride.FirstRow; b < p.Batch; b += GridStride.RowStep)
            for (int e = GridStride.FirstCol; e < size; e += GridStride.ColStep)
            {
                int c = e / pixels, y = e % pixels / p.OutWidth, x = e % p.OutWidth;
                long corner = b * p.LdImage + (c * p.Height + y * p.Stride) * p.Width + x * p.Stride;
                T sum = T.Zero;
                for (int i = 0; i < p.Kernel; i++)
                    for (int j = 0; j < p.Kernel; j++) sum += input[corner + i * p.Width + j];
                output[b * p.LdPooled + e] = sum * scale;
            }
    }

    /// <summary>gradInput[b, c, h, w] ← Σ over the windows holding (h, w) of gradOutput / Kernel² + β·gradInput (gathered: one writer per element).</summary>
    public static void AvgPoolBackward<T>(ArrayView<T> gradOutput, ArrayView<T> gradInput, PoolArgs<T> p) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int plane = p.Height * p.Width, size = p.Channels * plane;
        T scale = p.Scale;
        for (int b = GridStride.FirstRow; b < p.Batch; b += GridStride.RowStep)
            for (int e = GridStride.FirstCol; e < size; e += GridStride.ColStep)
            {
                int c = e / plane, h = e % plane / p.Width, w = e % p.Width;
                // Windows y with y·s ≤ h < y·s + k.
                int y0 = h - p.Kernel + 1 <= 0 ? 0 : (h - p.Kernel + p.Stride) / p.Stride, y1 = Math.Min(h / p.Stride, p.OutHeight - 1);
                int x0 = w - p.Kernel + 1 <= 0 ? 0 : (w - p.Kernel + p.Stride) / p.Stride, x1 = Math.Min(w / p.Stride, p.OutWidth - 1);
                T sum = T.Zero;
                for (int y = y0; y <= y1; y++)
                    for (int x = x0; x <= x1; x++) sum += gradOutput[b * p.LdPooled + (c * p.OutHeight + y) * p.OutWidth + x];
                long at = b * p.LdImage + e;
                gradInput[at] = p.Beta == T.Zero ? sum * scale : sum * scale + p.Beta * gradInput[at];
            }
    }
}
