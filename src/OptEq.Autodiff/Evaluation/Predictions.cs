namespace OptEq.Autodiff.Evaluation;

/// <summary>
/// Predictions from a model's outputs, counted against labels: the one rule the trainer and the evaluator share. The
/// prediction is the argmax of the outputs, or with the MMC loss's centres (docs/math.md §7.9) the nearest centre.
/// </summary>
public static class Predictions
{
    /// <summary>The index of the largest value; the first of equal maxima (NaN never wins).</summary>
    public static int Argmax(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int c = 1; c < row.Length; c++) if (row[c] > row[best]) best = c;
        return best;
    }

    /// <summary>
    /// The predicted class of one output row: <see cref="Argmax"/> when <paramref name="centres"/> is empty, else the k
    /// whose centre (row k of centres, [classes, row.Length] row-major) is nearest to the row. All centres have the same
    /// norm, so the nearest is the one of largest ⟨row, μ_k⟩ (the first of equal maxima; NaN never wins).
    /// </summary>
    public static int Predict(ReadOnlySpan<float> row, ReadOnlySpan<double> centres)
    {
        if (centres.IsEmpty) return Argmax(row);
        int dim = row.Length, classes = centres.Length / dim, best = 0;
        double bestScore = double.NegativeInfinity;
        for (int k = 0; k < classes; k++)
        {
            var mu = centres.Slice(k * dim, dim);
            double score = 0;
            for (int j = 0; j < dim; j++) score += row[j] * mu[j];
            if (score > bestScore) (best, bestScore) = (k, score);
        }
        return best;
    }

    /// <summary>
    /// How many rows of <paramref name="logits"/> ([labels.Length, classes], row-major, on the host) predict their label
    /// (<see cref="Predict"/> with <paramref name="centres"/>; empty: the argmax); each (label, prediction) pair is also
    /// counted in <paramref name="confusion"/> [classes, classes] when given.
    /// </summary>
    public static int CountCorrect(ReadOnlySpan<float> logits, ReadOnlySpan<int> labels, int classes, int[,]? confusion = null, ReadOnlySpan<double> centres = default)
    {
        if (logits.Length != labels.Length * classes)
            throw new ArgumentException($"{labels.Length} labels of {classes} classes need {labels.Length * classes} logits, got {logits.Length}", nameof(logits));
        if (!centres.IsEmpty && centres.Length != classes * classes)
            throw new ArgumentException($"MMC centres of {classes} classes need {classes * classes} values, got {centres.Length}", nameof(centres));
        int correct = 0;
        for (int s = 0; s < labels.Length; s++)
        {
            int best = Predict(logits.Slice(s * classes, classes), centres);
            if (best == labels[s]) correct++;
            if (confusion is not null) confusion[labels[s], best]++;
        }
        return correct;
    }

    /// <summary>Downloads <paramref name="logits"/> [count, classes] into <paramref name="host"/> (reused, at least count·classes long) and counts as above.</summary>
    public static int CountCorrect(Tensor<float> logits, ReadOnlySpan<int> labels, float[] host, int[,]? confusion = null, ReadOnlySpan<double> centres = default)
    {
        int classes = logits.Shape[1];
        var span = host.AsSpan(0, checked((int)logits.Length));
        logits.CopyTo(span);
        return CountCorrect(span, labels, classes, confusion, centres);
    }
}
