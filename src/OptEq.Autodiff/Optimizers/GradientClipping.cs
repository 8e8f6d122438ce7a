namespace OptEq.Autodiff.Optimizers;

/// <summary>Gradient clipping, once per training step, before the optimizer step.</summary>
public static class GradientClipping
{
    /// <summary>
    /// Scales every gradient by maxNorm / ‖g‖ when the global norm ‖g‖ (the 2-norm of all gradients together) exceeds
    /// <paramref name="maxNorm"/>, and returns ‖g‖ before clipping. Squared norms are reduced on the device and read
    /// back as one scalar. Unlike PyTorch's clip_grad_norm_, the factor has no +1e-6 (‖g‖ &gt; maxNorm &gt; 0 already
    /// rules out a zero divisor), so the clipped norm is maxNorm to rounding and gradients at or below it are not touched;
    /// a non-finite norm leaves the gradients as they are and is returned, so the caller can skip the step.
    /// </summary>
    public static double ClipByGlobalNorm<T>(IEnumerable<Parameter<T>> parameters, double maxNorm) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(maxNorm > 0)) throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, "maxNorm must be > 0");
        var grads = parameters.Where(p => p.Length > 0).Select(p => p.Grad).ToArray();
        if (grads.Length == 0) return 0;
        var device = grads[0].Device;
        if (grads.Any(g => g.Device != device)) throw new ArgumentException("gradients to clip by one global norm must live on one device", nameof(parameters));

        var squares = device.Pool.Rent<T>(grads.Length);
        var total = device.Pool.Rent<T>(1);
        try
        {
            for (int i = 0; i < grads.Length; i++)
                device.RowReduce(RowReduction.SquaredNorm, grads[i].Reshape(1, -1), null, squares.Slice(i, 1));
            device.RowReduce(RowReduction.Sum, squares.Reshape(1, -1), null, total);
            Span<T> host = stackalloc T[1];
            total.CopyTo(host);
            double norm = Math.Sqrt(double.CreateTruncating(host[0]));
            if (double.IsFinite(norm) && norm > maxNorm)
            {
                T scale = T.CreateTruncating(maxNorm / norm);
                foreach (var g in grads) device.Axpby(scale, g, T.Zero, g, g);
            }
            return norm;
        }
        finally
        {
            device.Pool.Return(squares);
            device.Pool.Return(total);
        }
    }
}
