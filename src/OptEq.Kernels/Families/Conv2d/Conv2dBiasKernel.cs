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
    /// <summary>k per split of a split-k op (<see cref="IConvGemm{T}.SplitsK"/>); unused otherwise.</summary>
    public int KChunk;

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
/// The bias gradient, one group per output channel (channels taken with a grid stride): each thread sums a strided
/// slice of the channel's batch × pixels, then the group adds the partials in shared memory (dynamic, one element per
/// thread). Reference: <see cref="Reference.ReferenceKernels.Conv2dBackwardBias"/>.
/// </summary>
public static class Conv2dBiasKernel
{
    /// <summary>gradBias[o] ← Σ_{b, pixels} gradOutput[b, o, ·] + β·gradBias[o]. A = gradOutput.</summary>
    public static void BackwardBias<T>(ArrayView<T> gradOutput, ArrayView<T> gradBias, ConvArgs<T> p) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var scratch = SharedMemory.GetDynamic<T>();
        int pixels = p.OutPixels, items = p.Batch * pixels;
        for (int o = Grid.IdxX; o < p.OutChannels; o += Grid.DimX)
        {
            T sum = T.Zero;
            for (int e = Group.IdxX; e < items; e += Group.DimX) sum += gradOutput[e / pixels * p.LdA + o * pixels + e % pixels];
            sum = GroupReduce.Reduce<T, SumCombine<T>>(scratch, sum);
            if (Group.IsFirstThread) gradBias[o] = p.Beta == T.Zero ? sum : sum + p.Beta * gradBias[o];
        }
    }
}
