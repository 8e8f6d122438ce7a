using OptEq.Autodiff.Models;
using OptEq.Kernels.Activations;

namespace OptEq.Autodiff.Growth;

/// <summary>What kind of neuron a layer's split duplicates.</summary>
public enum SplitKind
{
    /// <summary>A neuron σ(θᵀ[x; 1]) of a linear layer followed by an activation and a linear layer (docs/math.md §5.1).</summary>
    Dense,
    /// <summary>A hidden unit of an OptEq layer followed by a linear head: a column of W, a row of U, an entry of b (§5.6).</summary>
    OptEqUnit,
}

/// <summary>A layer whose neurons can be split: its index in the spec, its kind, its name and width.</summary>
public sealed record SplitTarget(int LayerIndex, SplitKind Kind, string Name, int Width)
{
    /// <summary>
    /// The growable layers of a spec: each linear layer followed by an activation and a linear layer (mlp), and each
    /// OptEq layer followed by a linear head. Convolution channels are not supported (there are no convolution layers yet).
    /// </summary>
    public static IReadOnlyList<SplitTarget> Of(ModelSpec spec)
    {
        var targets = new List<SplitTarget>();
        var layers = spec.Layers;
        for (int i = 0; i < layers.Count; i++)
        {
            if (layers[i] is LinearSpec linear && i + 2 < layers.Count && layers[i + 1] is ActivationSpec && layers[i + 2] is LinearSpec)
                targets.Add(new SplitTarget(i, SplitKind.Dense, linear.Name!, linear.Output));
            else if (layers[i] is OptEqSpec opteq && i + 1 < layers.Count && layers[i + 1] is LinearSpec)
                targets.Add(new SplitTarget(i, SplitKind.OptEqUnit, opteq.Name!, opteq.Hidden));
        }
        if (targets.Count == 0)
            throw new ArgumentException("splitting: the model has no growable layer (a linear layer between activations and a linear layer, or an OptEq layer before a linear head)");
        return targets;
    }

    /// <summary>Checks that an OptEq layer can be split exactly (docs/math.md §5.6): a positively homogeneous activation and Frobenius scaling.</summary>
    public static void CheckOptEq(OptEqSpec spec)
    {
        if (spec.Activation.Kind is not (ActivationKind.ReLU or ActivationKind.LeakyReLU or ActivationKind.Identity))
            throw new ArgumentException($"splitting an OptEq unit needs a positively homogeneous activation (relu, leaky-relu): with '{spec.Activation.Kind}' the copies' equilibrium is not the halved unit's, so the split would change the function");
        if (spec.Norm != NormKind.Frobenius)
            throw new ArgumentException("splitting an OptEq unit needs --norm frobenius: the spectral scaling's persistent power iteration cannot be resized exactly");
    }
}
