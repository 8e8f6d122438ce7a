using System.Globalization;
using System.Text;
using OptEq.Autodiff.Models;

namespace OptEq.Autodiff.Checkpoints;

/// <summary>
/// Plain-text metadata that lets someone load a checkpoint without reading C# (tools/python/opteq_load.py does):
/// the forward equation, how each stored tensor becomes the weight it stands for, and the input preprocessing.
/// Written into every training checkpoint under the keys below (outside the reserved "opteq." namespace).
/// </summary>
public static class ModelCard
{
    public const string ForwardKey = "model.forward";
    public const string TensorsKey = "model.tensors";
    public const string PreprocessingKey = "model.preprocessing";

    /// <param name="loss">The loss the model was trained with, which fixes the prediction rule (default: the cross-entropy's argmax).</param>
    public static void Describe(Checkpoint checkpoint, ModelConfig config, Losses.ClassificationLoss? loss = null)
    {
        checkpoint.Metadata[ForwardKey] = Forward(config.Spec, loss ?? Losses.ClassificationLoss.CrossEntropy);
        checkpoint.Metadata[TensorsKey] = Tensors(config.Spec);
        checkpoint.Metadata[PreprocessingKey] = string.Create(CultureInfo.InvariantCulture,
            $"x = (pixel / 255 - {config.InputMean:R}) / {config.InputStd:R}, each image flattened row-major to {config.Input} features; rows of x are samples");
    }

    private static string Forward(ModelSpec spec, Losses.ClassificationLoss loss)
    {
        var text = new StringBuilder("rows are samples; layers in order: ");
        text.AppendJoin("; then ", spec.Layers.Select(layer => layer switch
        {
            OptEqSpec o => $"{o.Name}: z solves z = {o.Activation}(z·M + x·Uᵀ + b), the unique fixed point since M = WᵀW with ‖W‖₂ ≤ γ = {o.Gamma.ToString(CultureInfo.InvariantCulture)} < 1 (any fixed-point iteration from z = 0 converges); output z",
            LinearSpec l => $"{l.Name}: y = x·weightᵀ" + (l.Bias ? " + bias" : ""),
            ActivationSpec a => $"y = {a.Activation}(x)",
            _ => $"{layer.Name}: a {layer.GetType().Name.Replace("Spec", "", StringComparison.Ordinal)} equilibrium layer (docs/math.md)",
        }));
        return text.Append("; the prediction is ").Append(loss.PredictionRule).ToString();
    }

    private static string Tensors(ModelSpec spec) => string.Join("; ", spec.Layers.Select(layer => layer switch
    {
        OptEqSpec o => $"model.{o.Name}.V [{o.Hidden}, {o.Hidden}] gives W = γ·V/" + (o.Norm == NormKind.Frobenius ? "‖V‖_F (Frobenius norm)" : "σ_max(V) (largest singular value)") +
                       $"; model.{o.Name}.U [{o.Hidden}, input] and model.{o.Name}.b [{o.Hidden}] are used as stored",
        LinearSpec l => $"model.{l.Name}.weight [{l.Output}, input]" + (l.Bias ? $" and model.{l.Name}.bias [{l.Output}]" : "") + " are used as stored",
        ActivationSpec => null,
        _ => $"model.{layer.Name}.*: see the layer's section in docs/math.md",
    }).Where(s => s is not null));
}
