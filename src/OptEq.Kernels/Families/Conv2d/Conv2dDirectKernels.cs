using System.Numerics;
using ILGPU;

namespace OptEq.Kernels.Ilgpu.Kernels;

/// <summary>The sizes and scalars of one convolution launch (ILGPU kernel parameters cannot be bool or records with private state).</summary>
public struct ConvArgs<T> where T : unmanaged
{
    public int InChannels, Height, Width, OutChannels, KernelHeight, KernelWidth, Stride, Padding, Circular, OutHeight, OutWidth, Batch;
    /// <summary>Row strides of the first and second activation operand (which ones depends on the kernel) and of the weight.</summary>
    public long LdA, LdB, LdWeight;
    public int HasBias;
    public T Beta;

    public readonly int InputSize => InChannels * Height * Width;
    public readonly int OutputSize => OutChannels * OutHeight * OutWidth;
    public readonly int OutPixels => OutHeight * OutWidth;
    public readonly int WeightColumns => InChannels * KernelHeight * KernelWidth;

    internal static ConvArgs<T> Of(in Conv2dGeometry g, int batch, long ldA, long ldB, long ldWeight, bool hasBias, T beta) => new()
    {
        InChannels = g.InChannels, Height = g.Height, Width = g.Width, OutChannels = g.OutChannels, KernelHeight = g.KernelHeight,
        KernelWidth = g.KernelWidth, Stride = g.Stride, Padding = g.Padding, Circular = g.PaddingMode == ConvPadding.Circular ? 1 : 0,
        OutHeight = g.OutHeight, OutWidth = g.OutWidth, Batch = batch, LdA = ldA, LdB = ldB, LdWeight = ldWeight, HasBias = hasBias ? 1 : 0, Beta = beta,
    };

    /// <summary>The input row or column a tap reads (−1 in zero padding): as <see cref="Reference.ReferenceKernels.ConvSource"/>.</summary>
    public readonly int Source(int output, int tap, int size)
    {
        int i = output * Stride - Padding + tap;
        if (i >= 0 && i < size) return i;
        if (Circular == 0) return -1;
        return i < 0 ? i + size : i - size; // circular padding is at most the image size: one wrap suffices
    }
}

/// <summary>
/// Direct convolution kernels, one thread per result element, walking the whole reduction (references:
/// <see cref="Reference.ReferenceKernels.Conv2d"/> and its backward passes). The weight gradient and the bias gradient,
/// are the plainest correct form on any accelerator.
/// </summary>
public static class Conv2dDirectKernels
{
    /// <summary>output[b, o, y, x] ← bias[o] + Σ_{c,i,j} weight[o, c, i, j]·input[b, c, src(y, i), src(x, j)] + β·output. A = input, B = output.</summary>
    public static void Forward<T>(ArrayView<T> input, ArrayView<T> weight, ArrayView<T> bias, ArrayView<T> output, ConvArgs<T> p)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int pixels = p.OutPixels, size = p.OutputSize;
        for (int b = GridStride.FirstRow; b < p.Batch; b += GridStride.RowStep)
            for (int e = GridStride.FirstCol; e < size; e += GridStride.ColStep)
            {
                int o = e / pixels, y = e % pixels / p.OutWidth, x = e % p.OutWidth;
                T sum = p.HasBias != 0 ? bias[o] : T.Zero;
                for (int c = 0; c < p.InChannels; c++)
                    for (int i = 0; i < p.KernelHeight; i++)
                    {
                        int h = p.Source(y, i, p.Height);
                        if (h < 0) continue;
                        for (int j = 0; j < p.KernelWidth; j++)
                        {
                            int w = p.Source(x, j, p.Width);
                            if (w < 0) continue;
                            sum += weight[o * p.LdWeight + (c * p.KernelHeight + i) * p.KernelWidth + j] * input[b * p.LdA + (c * p.Height + h) * p.Width + w];
                        }
                    }
                long at = b * p.LdB + e;
                output[at] = p.Beta == T.Zero ? sum : sum + p.Beta * output[at];
            }
    }

    /// <summary>
    /// gradInput[b, c, h, w] ← Σ over the (o, y, x, i, j) whose tap (i, j) at output (y, x) reads pixel (h, w) of
    /// gradOutput[b, o, y, x]·weight[o, c, i, j] + β·gradInput: the adjoint gathered per input pixel, so no two threads
    /// write one element. A = gradOutput, B = gradInput.
    /// </summary>
    public static void BackwardInput<T>(ArrayView<T> gradOutput, ArrayView<T> weight, ArrayView<T> gradInput, ConvArgs<T> p)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int plane = p.Height * p.Width, size = p.InputSize;
        for (int b = GridStride.FirstRow; b < p.Batch; b += GridStride.RowStep)
            for (int e = GridStride.FirstCol; e < size; e += GridStride.ColStep)
            {
                int c = e / plane, h = e % plane / p.Width, w = e % p.Width;
                T sum = T.Zero;
                for (int i = 0; i < p.KernelHeight; i++)
                {
                    // The padded rows that hold pixel row h: h itself, and h ± Height where the padding wraps around.
                    for (int wrapH = -1; wrapH <= 1; wrapH++)
                    {
                        if (wrapH != 0 && p.Circular == 0) continue;
                        int ty = h + wrapH * p.Height + p.Padding - i; // = y·stride
                        if (ty < 0 || ty % p.Stride != 0 || ty / p.Stride >= p.OutHeight) continue;
                        int y = ty / p.Stride;
                        for (int j = 0; j < p.KernelWidth; j++)
                            for (int wrapW = -1; wrapW <= 1; wrapW++)
                            {
                                if (wrapW != 0 && p.Circular == 0) continue;
                                int tx = w + wrapW * p.Width + p.Padding - j;
                                if (tx < 0 || tx % p.Stride != 0 || tx / p.Stride >= p.OutWidth) continue;
                                int x = tx / p.Stride;
                                for (int o = 0; o < p.OutChannels; o++)
                                    sum += gradOutput[b * p.LdA + (o * p.OutHeight + y) * p.OutWidth + x] * weight[o * p.LdWeight + (c * p.KernelHeight + i) * p.KernelWidth + j];
                            }
                    }
                }
                long at = b * p.LdB + e;
                gradInput[at] = p.Beta == T.Zero ? sum : sum + p.Beta * gradInput[at];
            }
    }

    /// <summary>gradWeight[o, (c, i, j)] ← Σ_{b,y,x} gradOutput[b, o, y, x]·input[b, c, src(y, i), src(x, j)] + β·gradWeight. A = input, B = gradOutput.</summary>
    public static void BackwardWeight<T>(ArrayView<T> input, ArrayView<T> gradOutput, ArrayView<T> gradWeight, ConvArgs<T> p)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int kk = p.KernelHeight * p.KernelWidth, columns = p.WeightColumns;
        for (int o = GridStride.FirstRow; o < p.OutChannels; o += GridStride.RowStep)
            for (int e = GridStride.FirstCol; e < columns; e += GridStride.ColStep)
            {
                int c = e / kk, i = e % kk / p.KernelWidth, j = e % p.KernelWidth;
                T sum = T.Zero;
                for (int b = 0; b < p.Batch; b++)
                    for (int y = 0; y < p.OutHeight; y++)
                    {
                        int h = p.Source(y, i, p.Height);
                        if (h < 0) continue;
                        for (int x = 0; x < p.OutWidth; x++)
                        {
                            int w = p.Source(x, j, p.Width);
                            if (w < 0) continue;
                            sum += gradOutput[b * p.LdB + (o * p.OutHeight + y) * p.OutWidth + x] * input[b * p.LdA + (c * p.Height + h) * p.Width + w];
                        }
                    }
                long at = o * p.LdWeight + e;
                gradWeight[at] = p.Beta == T.Zero ? sum : sum + p.Beta * gradWeight[at];
            }
    }

    /// <summary>gradBias[o] ← Σ_{b, pixels} gradOutput[b, o, ·] + β·gradBias[o]. A = gradOutput.</summary>
    public static void BackwardBias<T>(ArrayView<T> gradOutput, ArrayView<T> gradBias, ConvArgs<T> p) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int pixels = p.OutPixels;
        for (int o = Grid.GlobalIndex.X; o < p.OutChannels; o += Grid.DimX * Group.DimX)
        {
            T sum = T.Zero;
            for (int b = 0; b < p.Batch; b++)
                for (int k = 0; k < pixels; k++) sum += gradOutput[b * p.LdA + o * pixels + k];
            gradBias[o] = p.Beta == T.Zero ? sum : sum + p.Beta * gradBias[o];
        }
    }
}
