using System.Numerics;
using ILGPU;
using ILGPU.Runtime;
using OptEq.Kernels.Ilgpu.Kernels;

namespace OptEq.Kernels.Ilgpu;

/// <summary>The convolution family on an ILGPU accelerator.</summary>
internal sealed class Conv2dIlgpu(IlgpuDevice device) : IConv2dBackend
{
    public void Forward<T>(in Conv2dGeometry g, int batch, MatrixView<T> input, MatrixView<T> weight, MatrixView<T> bias, MatrixView<T> output, T beta)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var kernel = device.Kernels.Get("conv2d-direct", typeof(T), null, acc =>
            acc.LoadStreamKernel<ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ConvArgs<T>>(Conv2dDirectKernels.Forward));
        var args = ConvArgs<T>.Of(g, batch, input.RowStride, output.RowStride, weight.RowStride, !bias.IsAbsent, beta);
        var outView = IlgpuDevice.View(output);
        kernel(device.ElementwiseLaunch(batch, g.OutputSize), IlgpuDevice.View(input), IlgpuDevice.View(weight), bias.IsAbsent ? outView : IlgpuDevice.View(bias), outView, args);
    }

    public void BackwardInput<T>(in Conv2dGeometry g, int batch, MatrixView<T> gradOutput, MatrixView<T> weight, MatrixView<T> gradInput, T beta)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var kernel = device.Kernels.Get("conv2d-backward-input-direct", typeof(T), null, acc =>
            acc.LoadStreamKernel<ArrayView<T>, ArrayView<T>, ArrayView<T>, ConvArgs<T>>(Conv2dDirectKernels.BackwardInput));
        var args = ConvArgs<T>.Of(g, batch, gradOutput.RowStride, gradInput.RowStride, weight.RowStride, false, beta);
        kernel(device.ElementwiseLaunch(batch, g.InputSize), IlgpuDevice.View(gradOutput), IlgpuDevice.View(weight), IlgpuDevice.View(gradInput), args);
    }

    public void BackwardWeight<T>(in Conv2dGeometry g, int batch, MatrixView<T> input, MatrixView<T> gradOutput, MatrixView<T> gradWeight, T beta)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var kernel = device.Kernels.Get("conv2d-backward-weight-direct", typeof(T), null, acc =>
            acc.LoadStreamKernel<ArrayView<T>, ArrayView<T>, ArrayView<T>, ConvArgs<T>>(Conv2dDirectKernels.BackwardWeight));
        var args = ConvArgs<T>.Of(g, batch, input.RowStride, gradOutput.RowStride, gradWeight.RowStride, false, beta);
        kernel(device.ElementwiseLaunch(g.OutChannels, g.WeightColumns), IlgpuDevice.View(input), IlgpuDevice.View(gradOutput), IlgpuDevice.View(gradWeight), args);
    }

    public void BackwardBias<T>(in Conv2dGeometry g, int batch, MatrixView<T> gradOutput, MatrixView<T> gradBias, T beta)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var kernel = device.Kernels.Get("conv2d-backward-bias", typeof(T), null, acc =>
            acc.LoadStreamKernel<ArrayView<T>, ArrayView<T>, ConvArgs<T>>(Conv2dDirectKernels.BackwardBias));
        var args = ConvArgs<T>.Of(g, batch, gradOutput.RowStride, 0, 0, false, beta);
        kernel(device.PerItemLaunch(g.OutChannels), IlgpuDevice.View(gradOutput), IlgpuDevice.View(gradBias), args);
    }
}
