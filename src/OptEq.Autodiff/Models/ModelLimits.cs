namespace OptEq.Autodiff.Models;

/// <summary>
/// Upper bounds on a model's sizes, checked from its spec before anything is allocated: a width of 200 000 would ask for a
/// 160 GB hidden matrix and overflow the element counts. Generous for this engine (the reference model has 95 hidden units).
/// </summary>
public static class ModelLimits
{
    /// <summary>Largest input, hidden or output width of any layer.</summary>
    public const int MaxWidth = 16_384;
    /// <summary>Largest parameter count of a whole model (2²⁸ floats: 1 GiB in float32).</summary>
    public const long MaxParameters = 1L << 28;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first width or count that is too large.</summary>
    public static void Check(ModelSpec spec) => Estimate(spec);

    /// <summary>The upper estimate of the parameter count that <see cref="Check"/> compares with <see cref="MaxParameters"/> (it checks the widths too).</summary>
    public static long Estimate(ModelSpec spec)
    {
        Width(spec.Input, "the input width");
        long parameters = 0;
        int width = spec.Input;
        foreach (var layer in spec.Layers)
        {
            int output = layer.OutputSize(width);
            Width(output, $"layer '{layer.Name ?? layer.GetType().Name}''s output width");
            long square = layer switch
            {
                OptEqSpec o => o.Hidden,
                DeepOptEqSpec d => d.Tiers.Sum(t => (long)t),
                ImplicitSpec i => i.Hidden,
                // Convolutional equilibria hold kernels, never a square map of their state.
                ConvOptEqSpec or MultiTierOptEqSpec or MonotoneConvSpec => 0,
                EquilibriumLayerSpec => output,
                _ => 0,
            };
            Width(square, $"layer '{layer.Name}''s hidden width");
            // Upper estimate: input and output maps plus the square hidden map(s) of equilibrium layers; an activation or a
            // pooling has no parameters, and a convolution (or convolutional equilibrium) its kernels and biases (counted as
            // dense maps of their images, a cnn on MNIST and a 64-channel conv-opteq were refused).
            parameters += layer switch
            {
                ActivationSpec or AvgPool2dSpec => 0,
                Conv2dSpec c => (long)c.OutChannels * (c.InChannels * c.KernelSize * c.KernelSize + 1),
                // Kernels: U, W (conv-opteq), every tier block (multitier: at most two blocks of the widest tier's square per
                // tier), A and B (conv-mon); plus biases.
                ConvOptEqSpec c => (long)c.Channels * (c.InChannels + c.Channels) * c.KernelSize * c.KernelSize + c.Channels,
                MultiTierOptEqSpec t => (long)t.KernelSize * t.KernelSize * (t.InChannels * t.Channels[0] + 2L * t.Channels.Length * (long)t.Channels.Max() * t.Channels.Max())
                    + t.Channels.Sum(),
                MonotoneConvSpec m => (long)m.Channels * (m.InputChannels + 2L * m.Channels) * m.KernelSize * m.KernelSize + m.Channels,
                _ => (long)width * output + 3L * square * square + 2L * (output + square) + (long)width * square,
            };
            if (parameters > MaxParameters)
                throw new ArgumentException($"the model would have more than {MaxParameters:N0} parameters (at layer '{layer.Name ?? layer.GetType().Name}'); the limit keeps it within memory");
            width = output;
        }
        return parameters;
    }

    private static void Width(long width, string what)
    {
        if (width > MaxWidth) throw new ArgumentException($"{what} {width} is over the limit of {MaxWidth}");
    }
}
