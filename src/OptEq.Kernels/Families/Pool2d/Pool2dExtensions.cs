using System.Numerics;

namespace OptEq.Kernels;

/// <summary>Average pooling and its backward pass, in NCHW with one sample per row (activations [batch, C·H·W]).</summary>
public static class Pool2dExtensions
{
    /// <summary>output ← the mean of each Kernel × Kernel window of the input. input [batch, g.InputSize], output [batch, g.OutputSize].</summary>
    public static void AvgPool2d<T>(this Device device, in Pool2dGeometry g, Tensor<T> input, Tensor<T> output) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string op = "avg-pool2d";
        device.CheckSameDevice(op, input, output);
        g.Validate(op);
        int batch = Conv2dExtensions.Activations(op, "input", input, g.InputSize, -1);
        Conv2dExtensions.Activations(op, "output", output, g.OutputSize, batch);
        Checks.NoOverlap(op, "the input", input, output);
        if (batch == 0) return;
        device.Family<IPool2dBackend>().AvgPool(g, batch, MatrixView<T>.Of(input), MatrixView<T>.Of(output));
    }

    /// <summary>gradInput ← each output gradient spread evenly over its window + β·gradInput (the adjoint of <see cref="AvgPool2d{T}"/>).</summary>
    public static void AvgPool2dBackward<T>(this Device device, in Pool2dGeometry g, Tensor<T> gradOutput, Tensor<T> gradInput, T beta = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string op = "avg-pool2d-backward";
        device.CheckSameDevice(op, gradOutput, gradInput);
        g.Validate(op);
        int batch = Conv2dExtensions.Activations(op, "gradOutput", gradOutput, g.OutputSize, -1);
        Conv2dExtensions.Activations(op, "gradInput", gradInput, g.InputSize, batch);
        Checks.NoOverlap(op, "gradOutput", gradOutput, gradInput);
        if (batch == 0) return;
        device.Family<IPool2dBackend>().AvgPoolBackward(g, batch, MatrixView<T>.Of(gradOutput), MatrixView<T>.Of(gradInput), beta);
    }
}

/// <summary>What a backend implements for the pooling family. Arguments are checked and the batch is non-empty.</summary>
internal interface IPool2dBackend
{
    void AvgPool<T>(in Pool2dGeometry g, int batch, MatrixView<T> input, MatrixView<T> output) where T : unmanaged, IFloatingPointIeee754<T>;

    void AvgPoolBackward<T>(in Pool2dGeometry g, int batch, MatrixView<T> gradOutput, MatrixView<T> gradInput, T beta) where T : unmanaged, IFloatingPointIeee754<T>;
}
