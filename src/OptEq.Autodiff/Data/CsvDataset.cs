using OptEq.Autodiff.Validation;
using System.Globalization;

namespace OptEq.Autodiff.Data;

/// <summary>How a bundled CSV set's features are brought to a common scale before the global standardisation.</summary>
public enum FeatureScaling
{
    /// <summary>Divide by a fixed maximum (DIGITS: pixel counts 0–16 → [0, 1], like MNIST's byte / 255).</summary>
    DivideByMaximum,
    /// <summary>Per feature: (x − mean) / std with the training split's mean and population std (WINE: units differ by 10³).</summary>
    StandardizePerFeature,
}

/// <summary>
/// A classification set stored as one CSV file of numeric features with the integer label last (the scikit-learn
/// files), recognised by its file name. <see cref="CsvDataset.Load"/> splits it into train and test by a fixed, seeded,
/// stratified rule (see <see cref="CsvDataset"/>).
/// </summary>
public sealed record CsvDatasetFormat(string Name, string File, int Features, int ImageRows, int ImageCols, int Classes, bool SklearnHeader,
    FeatureScaling Scaling, double Maximum = 0)
{
    /// <summary>DIGITS (8×8 handwritten digits, 1797 rows, 64 features 0–16, 10 classes; no header).</summary>
    public static CsvDatasetFormat Digits { get; } = new("digits", "digits.csv.gz", 64, 8, 8, 10, SklearnHeader: false, FeatureScaling.DivideByMaximum, 16);

    /// <summary>WINE (178 rows, 13 chemical measurements, 3 cultivars; first line "178,13,class_0,class_1,class_2").</summary>
    public static CsvDatasetFormat Wine { get; } = new("wine", "wine_data.csv", 13, 1, 13, 3, SklearnHeader: true, FeatureScaling.StandardizePerFeature);

    public static IReadOnlyList<CsvDatasetFormat> Known { get; } = [Digits, Wine];
}

/// <summary>
/// Reads a <see cref="CsvDatasetFormat"/> file strictly (every line: the right number of fields, finite numbers, an
/// integer label in range; errors name the file and line) and splits it: per class, the rows of that class in file
/// order are shuffled by SplitMix64 seeded with <see cref="SplitSeed"/> (one generator, classes in label order), and the
/// first round(<see cref="TestFraction"/> × count) go to the test set. Both sets keep file order.
/// </summary>
public static class CsvDataset
{
    public const ulong SplitSeed = 2021;
    public const double TestFraction = 0.2;

    /// <summary>The known format whose file is in <paramref name="dir"/>, or null.</summary>
    public static CsvDatasetFormat? Find(string dir) => CsvDatasetFormat.Known.FirstOrDefault(f => File.Exists(Path.Combine(dir, f.File)));

    public static (Dataset Train, Dataset Test) Load(string dir, CsvDatasetFormat format)
    {
        string path = Path.Combine(dir, format.File);
        var (features, labels) = Read(path, format);
        var (train, test) = Split(labels, format.Classes);
        var trainX = Gather(features, train, format.Features);
        var testX = Gather(features, test, format.Features);
        Scale(trainX, testX, format, path);
        return (new Dataset("train", trainX, train.Select(i => labels[i]).ToArray(), format.ImageRows, format.ImageCols, format.Classes),
                new Dataset("test", testX, test.Select(i => labels[i]).ToArray(), format.ImageRows, format.ImageCols, format.Classes));
    }

    /// <summary>The rows' features (row-major, float64) and labels; throws <see cref="InputException"/> naming file and line.</summary>
    public static (double[] Features, int[] Labels) Read(string path, CsvDatasetFormat format)
    {
        // Opened like every other input: special files refused, gzip checked to its trailer (docs/cli.md).
        using var file = InputFiles.OpenRead(path, "data file");
        using var decompressed = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new MemoryStream(GzipFile.Decompress(file, path)) : (Stream)file;
        using var reader = new StreamReader(decompressed);
        var features = new List<double>();
        var labels = new List<int>();
        int lineNumber = 0, declaredRows = -1;
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNumber++;
            if (line.Length == 0) throw InputException.Content(path, $"line {lineNumber}: empty line");
            var fields = line.Split(',');
            if (format.SklearnHeader && lineNumber == 1)
            {
                // "rows,features,name_0,…,name_{C−1}": the scikit-learn header, checked against the format.
                if (fields.Length != 2 + format.Classes || !int.TryParse(fields[0], CultureInfo.InvariantCulture, out declaredRows)
                    || !int.TryParse(fields[1], CultureInfo.InvariantCulture, out int declaredFeatures) || declaredFeatures != format.Features)
                    throw InputException.Content(path, $"line 1: expected the header 'rows,{format.Features},' and {format.Classes} class names, got '{line}'");
                continue;
            }
            if (fields.Length != format.Features + 1)
                throw InputException.Content(path, $"line {lineNumber}: expected {format.Features} features and a label ({format.Features + 1} fields), got {fields.Length}");
            for (int j = 0; j < format.Features; j++)
            {
                if (!double.TryParse(fields[j], NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
                    throw InputException.Content(path, $"line {lineNumber}: feature {j + 1} '{fields[j]}' is not a finite number");
                if (format.Scaling == FeatureScaling.DivideByMaximum && (v < 0 || v > format.Maximum))
                    throw InputException.Content(path, $"line {lineNumber}: feature {j + 1} = {fields[j]} is outside [0, {format.Maximum}]");
                features.Add(v);
            }
            if (!int.TryParse(fields[^1], NumberStyles.Integer, CultureInfo.InvariantCulture, out int label) || label < 0 || label >= format.Classes)
                throw InputException.Content(path, $"line {lineNumber}: label '{fields[^1]}' is not an integer in [0, {format.Classes})");
            labels.Add(label);
        }
        if (labels.Count == 0) throw InputException.Content(path, $"no data rows");
        if (declaredRows >= 0 && declaredRows != labels.Count)
            throw InputException.Content(path, $"the header declares {declaredRows} rows, the file has {labels.Count}");
        return ([.. features], [.. labels]);
    }

    /// <summary>Row indices of the train and test sets by the stratified rule above, each ascending.</summary>
    public static (int[] Train, int[] Test) Split(int[] labels, int classes)
    {
        var rng = new SplitMix64(SplitSeed);
        var train = new List<int>();
        var test = new List<int>();
        for (int c = 0; c < classes; c++)
        {
            var rows = Enumerable.Range(0, labels.Length).Where(i => labels[i] == c).ToArray();
            for (int i = rows.Length - 1; i > 0; i--)
            {
                int j = rng.NextInt(i + 1);
                (rows[i], rows[j]) = (rows[j], rows[i]);
            }
            int testCount = (int)Math.Round(TestFraction * rows.Length, MidpointRounding.AwayFromZero);
            test.AddRange(rows.Take(testCount));
            train.AddRange(rows.Skip(testCount));
        }
        train.Sort();
        test.Sort();
        return ([.. train], [.. test]);
    }

    private static float[] Gather(double[] features, int[] rows, int width)
    {
        var x = new float[rows.Length * width];
        for (int r = 0; r < rows.Length; r++)
            for (int j = 0; j < width; j++) x[r * width + j] = (float)features[rows[r] * width + j];
        return x;
    }

    private static void Scale(float[] train, float[] test, CsvDatasetFormat format, string path)
    {
        int width = format.Features;
        if (format.Scaling == FeatureScaling.DivideByMaximum)
        {
            float inverse = (float)(1 / format.Maximum);
            for (int i = 0; i < train.Length; i++) train[i] *= inverse;
            for (int i = 0; i < test.Length; i++) test[i] *= inverse;
            return;
        }
        int rows = train.Length / width;
        for (int j = 0; j < width; j++)
        {
            double sum = 0, squares = 0;
            for (int r = 0; r < rows; r++) { double v = train[r * width + j]; sum += v; squares += v * v; }
            double mean = sum / rows, std = Math.Sqrt(Math.Max(0, squares / rows - mean * mean));
            if (!(std > 0)) throw InputException.Content(path, $"feature {j + 1} is constant on the training split; it cannot be standardised");
            for (int r = 0; r < rows; r++) train[r * width + j] = (float)((train[r * width + j] - mean) / std);
            for (int r = 0; r < test.Length / width; r++) test[r * width + j] = (float)((test[r * width + j] - mean) / std);
        }
    }
}
