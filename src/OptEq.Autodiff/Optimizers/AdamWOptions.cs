namespace OptEq.Autodiff.Optimizers;

/// <summary>Options of <see cref="AdamW{T}"/>: <see cref="AdamOptions"/> with PyTorch AdamW's default decoupled weight decay, 0.01.</summary>
public sealed record AdamWOptions : AdamOptions
{
    public AdamWOptions() => WeightDecay = 0.01;
}
