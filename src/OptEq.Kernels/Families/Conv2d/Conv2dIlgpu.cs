using System.Numerics;
using ILGPU;
using ILGPU.Runtime;
using OptEq.Kernels.Ilgpu.Kernels;

namespace OptEq.Kernels.Ilgpu;

/// <summary>
/// The convolution family on an ILGPU accelerator: forward, backward input and backward weight as tiled implicit GEMMs
/// (<see cref="Conv2dKernel"/>, the tiling of the GEMM family), the weight gradient split along k when its few tiles
/// would leave the device idle, the bias gradient as one group per channel.
/// </summary>
internal sealed class Conv2dIlgpu(IlgpuDevice device) : IConv2dBackend
{
    /// <summary>The split-k partials of the weight gradient, per element type; grown when a larger one is needed, then reused.</summary>
    private readonly Dictionary<Type, MemoryBuffer> _partials = [];

    public void Forward<T>(in Conv2dGeometry g, int batch, MatrixView<T> input, MatrixView<T> weight, MatrixView<T> bias, MatrixView<T> output, T beta)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var args = ConvArgs<T>.Of(g, batch, input.RowStride, output.RowStride, weight.RowStride, !bias.IsAbsent, beta);
        var outView = IlgpuDevice.View(output);
        Launch(new ConvForwardGemm<T>(), IlgpuDevice.View(weight), IlgpuDevice.View(input), outView, bias.IsAbsent ? outView : IlgpuDevice.View(bias), args,
            g.OutChannels, g.OutPixels, g.WeightColumns, batch);
    }

    public void BackwardInput<T>(in Conv2dGeometry g, int batch, MatrixView<T> gradOutput, MatrixView<T> weight, MatrixView<T> gradInput, T beta)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var args = ConvArgs<T>.Of(g, batch, gradOutput.RowStride, gradInput.RowStride, weight.RowStride, false, beta);
        var dx = IlgpuDevice.View(gradInput);
        Launch(new ConvBackwardInputGemm<T>(), IlgpuDevice.View(weight), IlgpuDevice.View(gradOutput), dx, dx, args,
            g.InChannels, g.Height * g.Width, g.OutChannels * g.KernelHeight * g.KernelWidth, batch);
    }

    public void BackwardWeight<T>(in Conv2dGeometry g, int batch, MatrixView<T> input, MatrixView<T> gradOutput, MatrixView<T> gradWeight, T beta)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var args = ConvArgs<T>.Of(g, batch, input.RowStride, gradOutput.RowStride, gradWeight.RowStride, false, beta);
        var dw = IlgpuDevice.View(gradWeight);
        int m = g.OutChannels, n = g.WeightColumns, k = (int)Math.Min(int.MaxValue, (long)batch * g.OutPixels);
        int splits = Splits(m, n, k, out int chunk);
        if (splits == 1)
        {
            // One GEMM over the batch (k runs over samples × pixels); with no samples it only scales by β.
            Launch(new ConvBackwardWeightGemm<T>(), IlgpuDevice.View(gradOutput), IlgpuDevice.View(input), dw, dw, args, m, n, k, 1);
            return;
        }
        args.KChunk = chunk;
        var partials = Partials<T>((long)splits * m * n);
        Launch(new ConvBackwardWeightSplitGemm<T>(), IlgpuDevice.View(gradOutput), IlgpuDevice.View(input), partials, partials, args, m, n, k, splits);
        var sum = device.Kernels.Get("conv2d-backward-weight-sum", typeof(T), null, acc =>
            acc.LoadStreamKernel<ArrayView<T>, ArrayView<T>, ConvArgs<T>, int>(Conv2dSplitKernel.SumSplits));
        sum(device.PerItemLaunch(m * n), partials, dw, args, splits);
    }

    /// <summary>
    /// How many chunks of k the weight gradient is cut into: enough groups for about four per multiprocessor, each chunk at
    /// least four k-slices deep (so a split does more than stage its tiles), one when the tiles alone fill the device.
    /// </summary>
    private int Splits(int m, int n, int k, out int chunk)
    {
        var (tileM, tileN, tileK) = device.Accelerator.MaxNumThreadsPerGroup >= 256 ? (64, 64, 16) : (16, 16, 16);
        long tiles = IlgpuDevice.CeilDiv(m, tileM) * IlgpuDevice.CeilDiv(n, tileN);
        long wanted = 4L * Math.Max(1, device.Accelerator.NumMultiprocessors) / tiles;
        long most = IlgpuDevice.CeilDiv(k, 4 * tileK);
        if (wanted <= 1 || most <= 1) { chunk = k; return 1; } // also no samples (k = 0)
        int splits = (int)Math.Min(Math.Min(wanted, most), IlgpuDevice.MaxGridZ);
        chunk = (int)(IlgpuDevice.CeilDiv(IlgpuDevice.CeilDiv(k, splits), tileK) * tileK);
        return (int)IlgpuDevice.CeilDiv(k, chunk);
    }

    private ArrayView<T> Partials<T>(long length) where T : unmanaged
    {
        if (!_partials.TryGetValue(typeof(T), out var buffer) || buffer.Length < length)
        {
            buffer?.Dispose();
            buffer = device.Accelerator.Allocate1D<T>(length);
            _partials[typeof(T)] = buffer;
        }
        return ((MemoryBuffer1D<T, Stride1D.Dense>)buffer).View.SubView(0, length);
    }

    public void BackwardBias<T>(in Conv2dGeometry g, int batch, MatrixView<T> gradOutput, MatrixView<T> gradBias, T beta)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var kernel = device.Kernels.Get("conv2d-backward-bias", typeof(T), null, acc =>
            acc.LoadStreamKernel<ArrayView<T>, ArrayView<T>, ConvArgs<T>>(Conv2dBiasKernel.BackwardBias));
        var args = ConvArgs<T>.Of(g, batch, gradOutput.RowStride, 0, 0, false, beta);
        kernel(device.RowLaunch<T>(g.OutChannels, batch * g.OutPixels), IlgpuDevice.View(gradOutput), IlgpuDevice.View(gradBias), args);
    }

    /// <summary>64 × 64 tiles where a group may hold 256 threads, 16 × 16 tiles on smaller simulators (as the GEMM family).</summary>
    private void Launch<T, TOp>(TOp op, ArrayView<T> a, ArrayView<T> b, ArrayView<T> c, ArrayView<T> bias, ConvArgs<T> args, int m, int n, int k, int batch)
        where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IConvGemm<T>
    {
        int threads = device.Accelerator.MaxNumThreadsPerGroup;
        if (threads >= 256) Launch<T, GemmTiling64, TOp>(op, a, b, c, bias, args, m, n, k, batch);
        else if (threads >= 16) Launch<T, GemmTiling16, TOp>(op, a, b, c, bias, args, m, n, k, batch);
        else throw new NotSupportedException($"conv2d: {device.Id} allows only {threads} threads per group; the kernel needs 16");
    }

    private void Launch<T, TTile, TOp>(TOp op, ArrayView<T> a, ArrayView<T> b, ArrayView<T> c, ArrayView<T> bias, ConvArgs<T> args, int m, int n, int k, int batch)
        where T : unmanaged, IFloatingPointIeee754<T> where TTile : struct, IGemmTiling where TOp : struct, IConvGemm<T>
    {
        var kernel = device.Kernels.Get("conv2d-implicit-gemm", typeof(T), typeof((TTile, TOp)), acc =>
            acc.LoadStreamKernel<ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ConvArgs<T>, int, int, int, int, TOp>(Conv2dKernel.Run<T, TTile, TOp>));
        var tiling = default(TTile);
        int gridX = (int)IlgpuDevice.CeilDiv(n, tiling.TileN);
        int gridY = (int)Math.Min(IlgpuDevice.CeilDiv(m, tiling.TileM), IlgpuDevice.MaxGridY);
        int gridZ = Math.Min(batch, IlgpuDevice.MaxGridZ);
        var launch = new KernelConfig(new Index3D(gridX, gridY, gridZ), new Index3D(tiling.TileM / 4 * (tiling.TileN / 4), 1, 1));
        kernel(launch, a, b, c, bias, args, m, n, k, batch, op);
    }
}
