namespace OptEq.Kernels;

/// <summary>What a convolution reads outside the image: zeros, or the image wrapped around (PyTorch's padding_mode="circular").</summary>
public enum ConvPadding { Zero, Circular }

/// <summary>
/// The geometry of one 2-D convolution, per sample, in NCHW: an input of InChannels × Height × Width, a kernel of
/// OutChannels × InChannels × KernelHeight × KernelWidth, the same stride and padding along both axes. Validated on
/// construction (positive sizes, an output of at least 1 × 1, circular padding no wider than the image).
/// </summary>
public readonly record struct Conv2dGeometry(
    int InChannels, int Height, int Width, int OutChannels, int KernelHeight, int KernelWidth,
    int Stride = 1, int Padding = 0, ConvPadding PaddingMode = ConvPadding.Zero)
{
    // A field initialiser runs in the primary constructor: every geometry built with `new` is checked.
    private readonly bool _checked = Check(InChannels, Height, Width, OutChannels, KernelHeight, KernelWidth, Stride, Padding, PaddingMode);

    public int OutHeight => (Height + 2 * Padding - KernelHeight) / Stride + 1;
    public int OutWidth => (Width + 2 * Padding - KernelWidth) / Stride + 1;
    /// <summary>Features per sample of the input: InChannels·Height·Width.</summary>
    public int InputSize => InChannels * Height * Width;
    /// <summary>Features per sample of the output: OutChannels·OutHeight·OutWidth.</summary>
    public int OutputSize => OutChannels * OutHeight * OutWidth;
    /// <summary>Columns of the weight matrix [OutChannels, InChannels·KernelHeight·KernelWidth] (PyTorch's OIHW, flattened).</summary>
    public int WeightColumns => InChannels * KernelHeight * KernelWidth;
    /// <summary>Output pixels per channel: OutHeight·OutWidth.</summary>
    public int OutPixels => OutHeight * OutWidth;

    public override string ToString() =>
        $"{InChannels}×{Height}×{Width} → {OutChannels}×{OutHeight}×{OutWidth}, kernel {KernelHeight}×{KernelWidth}, stride {Stride}, " +
        $"padding {Padding}{(PaddingMode == ConvPadding.Circular ? " circular" : "")}";

    /// <summary>Checks again (a <c>default</c> or <c>with</c>-built geometry skips the constructor's check); throws a <see cref="ShapeException"/> naming <paramref name="op"/>.</summary>
    internal void Validate(string op)
    {
        try { Check(InChannels, Height, Width, OutChannels, KernelHeight, KernelWidth, Stride, Padding, PaddingMode); }
        catch (ShapeException e) { throw new ShapeException($"{op}: {e.Message}"); }
    }

    private static bool Check(int inChannels, int height, int width, int outChannels, int kernelHeight, int kernelWidth, int stride, int padding, ConvPadding mode)
    {
        if (inChannels < 1 || outChannels < 1) throw new ShapeException($"conv2d geometry: channels must be ≥ 1, got {inChannels} in and {outChannels} out");
        if (height < 1 || width < 1) throw new ShapeException($"conv2d geometry: the image must be at least 1×1, got {height}×{width}");
        if (kernelHeight < 1 || kernelWidth < 1) throw new ShapeException($"conv2d geometry: the kernel must be at least 1×1, got {kernelHeight}×{kernelWidth}");
        if (stride < 1) throw new ShapeException($"conv2d geometry: the stride must be ≥ 1, got {stride}");
        if (padding < 0) throw new ShapeException($"conv2d geometry: the padding must be ≥ 0, got {padding}");
        if (mode is not (ConvPadding.Zero or ConvPadding.Circular)) throw new ShapeException($"conv2d geometry: unknown padding mode {(int)mode}");
        if (height + 2 * padding < kernelHeight || width + 2 * padding < kernelWidth)
            throw new ShapeException($"conv2d geometry: the {kernelHeight}×{kernelWidth} kernel is larger than the {height}×{width} image padded by {padding}");
        if (mode == ConvPadding.Circular && (padding > height || padding > width))
            throw new ShapeException($"conv2d geometry: circular padding {padding} is wider than the {height}×{width} image (it may wrap around at most once)");
        if ((long)inChannels * height * width > int.MaxValue || (long)inChannels * kernelHeight * kernelWidth > int.MaxValue
            || (long)outChannels * ((height + 2L * padding - kernelHeight) / stride + 1) * ((width + 2L * padding - kernelWidth) / stride + 1) > int.MaxValue)
            throw new ShapeException("conv2d geometry: a sample has more than 2³¹ features");
        return true;
    }
}

/// <summary>
/// The geometry of a 2-D pooling, per sample, in NCHW: Channels × Height × Width, a square Kernel × Kernel window moved
/// by Stride along both axes, no padding. Validated on construction.
/// </summary>
public readonly record struct Pool2dGeometry(int Channels, int Height, int Width, int Kernel, int Stride)
{
    private readonly bool _checked = Check(Channels, Height, Width, Kernel, Stride);

    public int OutHeight => (Height - Kernel) / Stride + 1;
    public int OutWidth => (Width - Kernel) / Stride + 1;
    public int InputSize => Channels * Height * Width;
    public int OutputSize => Channels * OutHeight * OutWidth;

    public override string ToString() => $"{Channels}×{Height}×{Width} → {Channels}×{OutHeight}×{OutWidth}, window {Kernel}×{Kernel}, stride {Stride}";

    internal void Validate(string op)
    {
        try { Check(Channels, Height, Width, Kernel, Stride); }
        catch (ShapeException e) { throw new ShapeException($"{op}: {e.Message}"); }
    }

    private static bool Check(int channels, int height, int width, int kernel, int stride)
    {
        if (channels < 1) throw new ShapeException($"pool2d geometry: channels must be ≥ 1, got {channels}");
        if (height < 1 || width < 1) throw new ShapeException($"pool2d geometry: the image must be at least 1×1, got {height}×{width}");
        if (kernel < 1) throw new ShapeException($"pool2d geometry: the window must be at least 1×1, got {kernel}");
        if (stride < 1) throw new ShapeException($"pool2d geometry: the stride must be ≥ 1, got {stride}");
        if (kernel > height || kernel > width) throw new ShapeException($"pool2d geometry: the {kernel}×{kernel} window is larger than the {height}×{width} image");
        if ((long)channels * height * width > int.MaxValue) throw new ShapeException("pool2d geometry: a sample has more than 2³¹ features");
        return true;
    }
}
