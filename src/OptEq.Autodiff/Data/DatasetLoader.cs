using OptEq.Autodiff.Validation;

namespace OptEq.Autodiff.Data;

/// <summary>
/// Loads a train/test pair stored as the four MNIST-named IDX files: the bundled MNIST (<c>data/mnist</c> in the
/// repository) or any directory with the same file names, gzipped (<c>name.gz</c>) or not; or a folder holding one
/// of the known CSV sets (<see cref="CsvDatasetFormat.Known"/>: data/digits, data/wine).
/// </summary>
public static class DatasetLoader
{
    public const string TrainImagesFile = "train-images-idx3-ubyte";
    public const string TrainLabelsFile = "train-labels-idx1-ubyte";
    public const string TestImagesFile = "t10k-images-idx3-ubyte";
    public const string TestLabelsFile = "t10k-labels-idx1-ubyte";

    /// <summary>Where the bundled MNIST lives, relative to the repository root.</summary>
    public static readonly string BundledRelativePath = Path.Combine("data", "mnist");

    /// <summary>
    /// Loads the train and test sets from <paramref name="dir"/>, or the bundled MNIST when it is null.
    /// <paramref name="classes"/> defaults to the largest label of either set + 1, so both sets agree, and then every
    /// class below it must occur in the training set (<see cref="LabelChecks.InferClasses"/>): one corrupt label byte
    /// cannot turn ten classes into 256.
    /// </summary>
    public static (Dataset Train, Dataset Test) Load(string? dir, int? classes = null)
    {
        dir ??= FindBundled([AppContext.BaseDirectory, Directory.GetCurrentDirectory()]);
        if (!Directory.Exists(dir))
            throw File.Exists(dir) ? InputException.Access(dir, "is a file; --data needs a folder holding the four IDX files")
                                   : InputException.Access(dir, "data folder not found");
        // A folder with a known CSV set (data/digits, data/wine) is split by its own fixed rule; --classes does not apply.
        if (CsvDataset.Find(dir) is { } csv) return CsvDataset.Load(dir, csv);

        var trainImages = IdxReader.ReadImages(Resolve(dir, TrainImagesFile));
        var trainLabels = IdxReader.ReadLabels(Resolve(dir, TrainLabelsFile));
        var testImages = IdxReader.ReadImages(Resolve(dir, TestImagesFile));
        var testLabels = IdxReader.ReadLabels(Resolve(dir, TestLabelsFile));

        // An empty set would train on nothing or report an accuracy of 0/0.
        foreach (var images in new[] { trainImages, testImages })
            if (images.Dimensions[0] == 0) throw InputException.Content(images.Source, "holds no images");
        if (trainImages.Dimensions[1] != testImages.Dimensions[1] || trainImages.Dimensions[2] != testImages.Dimensions[2])
            throw InputException.Content(trainImages.Source,
                $"has {trainImages.Dimensions[1]}×{trainImages.Dimensions[2]} images but " +
                $"{testImages.Source} has {testImages.Dimensions[1]}×{testImages.Dimensions[2]}");

        classes ??= LabelChecks.InferClasses(trainLabels, testLabels);
        return (Dataset.FromIdx("train", trainImages, trainLabels, classes),
                Dataset.FromIdx("test", testImages, testLabels, classes));
    }

    /// <summary>
    /// The bundled data directory: the first <c>data/mnist</c> found in any of <paramref name="starts"/> or their
    /// ancestors (the build output sits a few levels below the repository root).
    /// </summary>
    public static string FindBundled(IEnumerable<string> starts)
    {
        var searched = new List<string>();
        foreach (string start in starts)
        {
            for (var d = new DirectoryInfo(Path.GetFullPath(start)); d is not null; d = d.Parent)
            {
                string candidate = Path.Combine(d.FullName, BundledRelativePath);
                if (Directory.Exists(candidate)) return candidate;
            }
            searched.Add(start);
        }
        throw new DirectoryNotFoundException(
            $"the bundled MNIST was not found: no '{BundledRelativePath}' folder in {string.Join(" or ", searched)} or above; " +
            $"pass --data DIR with a directory holding {TrainImagesFile}, {TrainLabelsFile}, {TestImagesFile} and {TestLabelsFile} (each optionally .gz)");
    }

    /// <summary><c>name.gz</c> when present, else <c>name</c>; a clear error naming both when neither exists.</summary>
    private static string Resolve(string dir, string name)
    {
        string gz = Path.Combine(dir, name + ".gz"), plain = Path.Combine(dir, name);
        // A directory or special file of either name is the user's mistake to hear about, not a reason to look for the other.
        if (Path.Exists(gz)) return gz;
        if (Path.Exists(plain)) return plain;
        throw InputException.Access(gz, $"file not found (nor {name} without .gz)");
    }
}
