using System.Numerics;

namespace OptEq.Kernels;

/// <summary>
/// 2-D convolution, its two backward passes, its bias gradient and the transposed convolution, in NCHW with one sample
/// per row: activations are matrices [batch, C·H·W], the weight is [OutChannels, InChannels·KernelHeight·KernelWidth]
/// (PyTorch's OIHW, flattened), the bias [OutChannels]. Every entry checks its arguments against the geometry before any
/// kernel runs. With β = 0 the output is not read (NaN in it does not leak). On accelerators the calls only enqueue work.
/// </summary>
public static class Conv2dExtensions
{
    /// <summary>output ← conv(input, weight) + bias + β·output; the bias may be null. input [batch, g.InputSize], output [batch, g.OutputSize].</summary>
    public static void Conv2d<T>(this Device device, in Conv2dGeometry g, Tensor<T> input, Tensor<T> weight, Tensor<T>? bias, Tensor<T> output, T beta = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string op = "conv2d";
        device.CheckSameDevice(op, input, weight, output, bias ?? output);
        g.Validate(op);
        int batch = Activations(op, "input", input, g.InputSize, -1);
        Activations(op, "output", output, g.OutputSize, batch);
        Weight(op, "weight", weight, g);
        if (bias is not null) Checks.RowVector(op, "the bias", bias, g.OutChannels);
        Checks.NoOverlap(op, "the input", input, output);
        Checks.NoOverlap(op, "the weight", weight, output);
        if (bias is not null) Checks.NoOverlap(op, "the bias", bias, output);
        if (batch == 0) return;
        device.Family<IConv2dBackend>().Forward(g, batch, MatrixView<T>.Of(input), MatrixView<T>.Of(weight),
            bias is null ? default : MatrixView<T>.Vector(bias), MatrixView<T>.Of(output), beta);
    }

    /// <summary>
    /// gradInput ← convᵀ(gradOutput, weight) + β·gradInput: the adjoint of <see cref="Conv2d{T}"/>'s linear part, i.e. the
    /// gradient of ⟨gradOutput, conv(input)⟩ with respect to the input. gradOutput [batch, g.OutputSize], gradInput [batch, g.InputSize].
    /// </summary>
    public static void Conv2dBackwardInput<T>(this Device device, in Conv2dGeometry g, Tensor<T> gradOutput, Tensor<T> weight, Tensor<T> gradInput, T beta = default)
        where T : unmanaged, IFloatingPointIeee754<T>
        => BackwardInput(device, "conv2d-backward-input", g, gradOutput, weight, gradInput, beta);

    /// <summary>
    /// The transposed convolution of g: input [batch, g.OutputSize] → output [batch, g.InputSize], output ← convᵀ(input, weight) + β·output.
    /// The same operator as <see cref="Conv2dBackwardInput{T}"/>, under its usual name.
    /// </summary>
    public static void ConvTranspose2d<T>(this Device device, in Conv2dGeometry g, Tensor<T> input, Tensor<T> weight, Tensor<T> output, T beta = default)
        where T : unmanaged, IFloatingPointIeee754<T>
        => BackwardInput(device, "conv-transpose2d", g, input, weight, output, beta);

    /// <summary>
    /// gradWeight ← Σ_batch ∂⟨gradOutput, conv(input, weight)⟩/∂weight + β·gradWeight. input [batch, g.InputSize],
    /// gradOutput [batch, g.OutputSize], gradWeight [OutChannels, WeightColumns].
    /// </summary>
    public static void Conv2dBackwardWeight<T>(this Device device, in Conv2dGeometry g, Tensor<T> input, Tensor<T> gradOutput, Tensor<T> gradWeight, T beta = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string op = "conv2d-backward-weight";
        device.CheckSameDevice(op, input, gradOutput, gradWeight);
        g.Validate(op);
        int batch = Activations(op, "input", input, g.InputSize, -1);
        Activations(op, "gradOutput", gradOutput, g.OutputSize, batch);
        Weight(op, "gradWeight", gradWeight, g);
        Checks.NoOverlap(op, "the input", input, gradWeight);
        Checks.NoOverlap(op, "gradOutput", gradOutput, gradWeight);
        device.Family<IConv2dBackend>().BackwardWeight(g, batch, MatrixView<T>.Of(input), MatrixView<T>.Of(gradOutput), MatrixView<T>.Of(gradWeight), beta);
    }

    /// <summary>gradBias ← Σ_batch,pixels gradOutput + β·gradBias. gradOutput [batch, g.OutputSize], gradBias [OutChannels].</summary>
    public static void Conv2dBackwardBias<T>(this Device device, in Conv2dGeometry g, Tensor<T> gradOutput, Tensor<T> gradBias, T beta = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string op = "conv2d-backward-bias";
        device.CheckSameDevice(op, gradOutput, gradBias);
        g.Validate(op);
        int batch = Activations(op, "gradOutput", gradOutput, g.OutputSize, -1);
        Checks.RowVector(op, "gradBias", gradBias, g.OutChannels);
        Checks.NoOverlap(op, "gradOutput", gradOutput, gradBias);
        device.Family<IConv2dBackend>().BackwardBias(g, batch, MatrixView<T>.Of(gradOutput), MatrixView<T>.Vector(gradBias), beta);
    }

    private static void BackwardInput<T>(Device device, string op, in Conv2dGeometry g, Tensor<T> gradOutput, Tensor<T> weight, Tensor<T> gradInput, T beta)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        device.CheckSameDevice(op, gradOutput, weight, gradInput);
        g.Validate(op);
        int batch = Activations(op, op == "conv-transpose2d" ? "input" : "gradOutput", gradOutput, g.OutputSize, -1);
        Activations(op, op == "conv-transpose2d" ? "output" : "gradInput", gradInput, g.InputSize, batch);
        Weight(op, "weight", weight, g);
        Checks.NoOverlap(op, "the weight", weight, gradInput);
        Checks.NoOverlap(op, op == "conv-transpose2d" ? "the input" : "gradOutput", gradOutput, gradInput);
        if (batch == 0) return;
        device.Family<IConv2dBackend>().BackwardInput(g, batch, MatrixView<T>.Of(gradOutput), MatrixView<T>.Of(weight), MatrixView<T>.Of(gradInput), beta);
    }

    /// <summary>Checks an activation matrix [batch, features] (batch = −1: any, returned) with rows of unit stride.</summary>
    internal static int Activations<T>(string op, string name, Tensor<T> t, int features, int batch) where T : unmanaged
    {
        if (t.Rank != 2 || t.Shape[1] != features || (batch >= 0 && t.Shape[0] != batch))
            throw new ShapeException($"{op}: {name} must be [{(batch < 0 ? "batch" : batch)}, {features}] (one sample per row, C·H·W features in NCHW order), got {ShapeUtil.Format(t.Shape)}");
        Checks.Matrix(op, name, t);
        return t.Shape[0];
    }

    private static void Weight<T>(string op, string name, Tensor<T> t, in Conv2dGeometry g) where T : unmanaged
    {
        if (t.Rank != 2 || t.Shape[0] != g.OutChannels || t.Shape[1] != g.WeightColumns)
            throw new ShapeException($"{op}: {name} must be [{g.OutChannels}, {g.WeightColumns}] (out channels × in channels·{g.KernelHeight}·{g.KernelWidth}, OIHW flattened), got {ShapeUtil.Format(t.Shape)}");
        Checks.Matrix(op, name, t);
    }
}

/// <summary>What a backend implements for the convolution family. Arguments are checked; batch may be 0 only for the weight and bias gradients (which then scale by β).</summary>
internal interface IConv2dBackend
{
    /// <summary>output ← conv(input, weight) + bias + β·output; an absent bias is left out.</summary>
    void Forward<T>(in Conv2dGeometry g, int batch, MatrixView<T> input, MatrixView<T> weight, MatrixView<T> bias, MatrixView<T> output, T beta)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>gradInput ← convᵀ(gradOutput, weight) + β·gradInput.</summary>
    void BackwardInput<T>(in Conv2dGeometry g, int batch, MatrixView<T> gradOutput, MatrixView<T> weight, MatrixView<T> gradInput, T beta)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>gradWeight ← Σ_batch gradOutput_b · im2col(input_b)ᵀ + β·gradWeight.</summary>
    void BackwardWeight<T>(in Conv2dGeometry g, int batch, MatrixView<T> input, MatrixView<T> gradOutput, MatrixView<T> gradWeight, T beta)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>gradBias ← Σ_batch,pixels gradOutput + β·gradBias.</summary>
    void BackwardBias<T>(in Conv2dGeometry g, int batch, MatrixView<T> gradOutput, MatrixView<T> gradBias, T beta)
        where T : unmanaged, IFloatingPointIeee754<T>;
}
