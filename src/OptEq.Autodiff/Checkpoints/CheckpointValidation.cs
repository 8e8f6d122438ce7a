using System.Globalization;
using OptEq.Autodiff.Validation;

namespace OptEq.Autodiff.Checkpoints;

/// <summary>
/// Checks a loaded checkpoint's values before a model is built from them: every floating-point tensor is finite, no
/// weight matrix is all zero (the normalised layers divide by its norm, W = γ·V/‖V‖), optimizer second moments are
/// ≥ 0, and the integer counters lie in their ranges. Each problem names the file and the tensor or key.
/// </summary>
public static class CheckpointValidation
{
    /// <summary>More epochs than any run makes: a larger counter is corruption, and would make a resume a silent no-op.</summary>
    public const long MaxEpoch = 1_000_000;

    public static void CheckValues(Checkpoint checkpoint)
    {
        foreach (var tensor in checkpoint.Tensors)
        {
            switch (tensor.DType)
            {
                case SafetensorsDType.F32: Check(checkpoint.Source, tensor, tensor.AsSpan<float>()); break;
                case SafetensorsDType.F64: Check(checkpoint.Source, tensor, tensor.AsSpan<double>()); break;
            }
        }
    }

    public static void CheckCounters(Checkpoint checkpoint)
    {
        if (checkpoint.Epoch < 0 || checkpoint.Epoch > MaxEpoch)
            throw InputException.Content(checkpoint.Source, $"metadata '{Checkpoint.EpochKey}' = {checkpoint.Epoch} is outside [0, {MaxEpoch}]");
        if (checkpoint.Step < 0 || checkpoint.Step > int.MaxValue)
            throw InputException.Content(checkpoint.Source, $"metadata '{Checkpoint.StepKey}' = {checkpoint.Step} is outside [0, {int.MaxValue}]");
    }

    private static void Check<T>(string source, SafetensorsTensor tensor, ReadOnlySpan<T> values) where T : unmanaged, IFloatingPointIeee754<T>
    {
        bool secondMoment = tensor.Name.StartsWith(Checkpoint.OptimizerGroup + ".", StringComparison.Ordinal) && tensor.Name.EndsWith(".v", StringComparison.Ordinal);
        bool allZero = true;
        for (int i = 0; i < values.Length; i++)
        {
            T x = values[i];
            if (!T.IsFinite(x)) throw Bad(source, tensor, i, x, "is not finite");
            if (secondMoment && T.IsNegative(x)) throw Bad(source, tensor, i, x, "is negative, but it is a second moment (a mean of squares, ≥ 0)");
            if (!T.IsZero(x)) allZero = false;
        }
        if (allZero && tensor.Shape.Length == 2 && values.Length > 0 && tensor.Name.StartsWith(Checkpoint.ParametersGroup + ".", StringComparison.Ordinal))
            throw InputException.Content(source, $"tensor '{tensor.Name}' {SafetensorsTensor.FormatShape(tensor.Shape)} is all zeros; a weight matrix never is (and a normalised one, W = γ·V/‖V‖, cannot be)");
    }

    private static InputException Bad<T>(string source, SafetensorsTensor tensor, int index, T value, string problem) where T : IFormattable
        => InputException.Content(source, $"tensor '{tensor.Name}' {SafetensorsTensor.FormatShape(tensor.Shape)}: element {index} = {value.ToString(null, CultureInfo.InvariantCulture)} {problem}");
}
