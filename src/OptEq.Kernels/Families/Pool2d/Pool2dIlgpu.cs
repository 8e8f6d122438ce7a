using System.Numerics;
using ILGPU;
using ILGPU.Runtime;
using OptEq.Kernels.Ilgpu.Kernels;

namespace OptEq.Kernels.Ilgpu;

/// <summary>Average pooling on an ILGPU accelerator (<see cref="Pool2dKernels"/>).</summary>
internal sealed class Pool2dIlgpu(IlgpuDevice device) : IPool2dBackend
{
    public void AvgPool<T>(in Pool2dGeometry g, int batch, MatrixView<T> input, MatrixView<T> output) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var kernel = device.Kernels.Get("avg-pool2d", typeof(T), null, acc =>
            acc.LoadStreamKernel<ArrayView<T>, ArrayView<T>, PoolArgs<T>>(Pool2dKernels.AvgPool));
        kernel(device.ElementwiseLaunch(batch, g.OutputSize), IlgpuDevice.View(input), IlgpuDevice.View(output), PoolArgs<T>.Of(g, batch, output.RowStride, input.RowStride, T.Zero, Scale<T>(g)));
    }

    public void AvgPoolBackward<T>(in Pool2dGeometry g, int batch, MatrixView<T> gradOutput, MatrixView<T> gradInput, T beta) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var kernel = device.Kernels.Get("avg-pool2d-backward", typeof(T), null, acc =>
            acc.LoadStreamKernel<ArrayView<T>, ArrayView<T>, PoolArgs<T>>(Pool2dKernels.AvgPoolBackward));
        kernel(device.ElementwiseLaunch(batch, g.InputSize), IlgpuDevice.View(gradOutput), IlgpuDevice.View(gradInput), PoolArgs<T>.Of(g, batch, gradOutput.RowStride, gradInput.RowStride, beta, Scale<T>(g)));
    }

    private static T Scale<T>(in Pool2dGeometry g) where T : unmanaged, IFloatingPointIeee754<T> => T.One / T.CreateChecked(g.Kernel * g.Kernel);
}
