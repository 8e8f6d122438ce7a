using OptEq.Autodiff.Validation;

namespace OptEq.Autodiff.Data;

/// <summary>
/// The class count of a labelled pair when none is given: the largest label + 1, accepted only when every class below
/// it occurs in the training labels. A flipped byte (a label of 255 among ten digits) would otherwise make a
/// 256-class problem and train on; here it is an error naming the file and the first bad index.
/// </summary>
public static class LabelChecks
{
    public static int InferClasses(IdxArray trainLabels, IdxArray testLabels)
    {
        int max = Math.Max(Dataset.MaxLabel(trainLabels), Dataset.MaxLabel(testLabels));
        if (max < 0) throw InputException.Content(trainLabels.Source, "holds no labels");
        int classes = max + 1;
        Span<bool> present = stackalloc bool[256];
        foreach (byte label in trainLabels.Data) present[label] = true;
        int missing = present[..classes].IndexOf(false);
        if (missing < 0) return classes;

        // The labels at or above the first absent class are the suspects; name the first one, train file first.
        foreach (var file in new[] { trainLabels, testLabels })
        {
            int at = Array.FindIndex(file.Data, l => l > missing);
            if (at >= 0)
                throw InputException.Content(file.Source,
                    $"label {file.Data[at]} at index {at} would make {classes} classes, but class {missing} never occurs in the training labels " +
                    $"({trainLabels.Source}); labels must run 0 … N−1 with every class present (a corrupt label byte?)");
        }
        throw InputException.Content(trainLabels.Source, $"class {missing} never occurs in the training labels, so they do not run 0 … {max}");
    }
}
