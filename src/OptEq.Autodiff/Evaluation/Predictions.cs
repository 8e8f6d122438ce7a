namespace OptEq.Autodiff.Evaluation;

/// <summary>Argmax predictions from logits, counted against labels: the one rule the trainer and the evaluator share.</summary>
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
    /// How many rows of <paramref name="logits"/> ([labels.Length, classes], row-major, on the host) predict their label;
    /// each (label, prediction) pair is also counted in <paramref name="confusion"/> [classes, classes] when given.
    /// </summary>
    public static int CountCorrect(ReadOnlySpan<float> logits, ReadOnlySpan<int> labels, int classes, int[,]? confusion = null)
    {
        if (logits.Length != labels.Length * classes)
            throw new ArgumentException($"{labels.Length} labels of {classes} classes need {labels.Length * classes} logits, got {logits.Length}", nameof(logits));
        int correct = 0;
        for (int s = 0; s < labels.Length; s++)
        {
            int best = Argmax(logits.Slice(s * classes, classes));
            if (best == labels[s]) correct++;
            if (confusion is not null) confusion[labels[s], best]++;
        }
        return correct;
    }

    /// <summary>Downloads <paramref name="logits"/> [count, classes] into <paramref name="host"/> (reused, at least count·classes long) and counts as above.</summary>
    public static int CountCorrect(Tensor<float> logits, ReadOnlySpan<int> labels, float[] host, int[,]? confusion = null)
    {
        int classes = logits.Shape[1];
        var span = host.AsSpan(0, checked((int)logits.Length));
        logits.CopyTo(span);
        return CountCorrect(span, labels, classes, confusion);
    }
}
