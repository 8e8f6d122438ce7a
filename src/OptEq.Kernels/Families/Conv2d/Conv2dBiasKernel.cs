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

/// <summary>The bias gradient, one thread per output channel summing over the batch and the pixels (reference: <see cref="Reference.ReferenceKernels.Conv2dBackwardBias"/>).</summary>
public static class Conv2dBiasKernel
{
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
