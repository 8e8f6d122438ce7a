namespace OptEq.Autodiff;

public static partial class Ops
{
    /// <summary>
    /// Mean Max-Mahalanobis centre loss over the rows of <paramref name="features"/> [batch, dim] with integer labels [batch],
    /// as [1]: (1/B)·Σ_b ½‖f_b − μ_{y_b}‖² with the fixed centres [classes, dim] (docs/math.md §7.9). The per-row losses stay
    /// available in <paramref name="perRow"/>.
    /// </summary>
    public static Variable<T> MmcLoss<T>(Variable<T> features, Tensor<int> labels, Tensor<T> centres, out Tensor<T> perRow) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var device = features.Tape.Device;
        // The gradient of the mean loss, (f − μ_y)/batch, comes out of the same pass.
        return MeanOfRowLosses(features, (losses, gradient, mean) => device.MmcLoss(features.Value, labels, centres, losses, gradient, mean), out perRow);
    }
}
