namespace OptEq.Autodiff.Optimizers;

/// <summary>
/// AdamW (Loshchilov &amp; Hutter), as torch.optim.AdamW: Adam without L2 in the gradient; instead every step first
/// shrinks p ← p·(1 − lr·λ) (decoupled weight decay; parameters marked NoWeightDecay are not shrunk). State is named "…adamw.m/v".
/// </summary>
public sealed class AdamW<T> : Adam<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Null options are <see cref="AdamWOptions"/> (decay 0.01); a plain <see cref="AdamOptions"/> brings its own decay (default 0).</summary>
    public AdamW(IEnumerable<Parameter<T>> parameters, AdamOptions? options = null)
        : base(parameters, options ?? new AdamWOptions(), decoupled: true, statePrefix: "adamw") { }
}
