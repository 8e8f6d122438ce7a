using OptEq.Autodiff.Validation;
using System.Security.Cryptography;
using NUnit.Framework;
using OptEq.Autodiff.Data;

namespace OptEq.Tests.Data;

/// <summary>The bundled DIGITS and WINE sets: checksums, the stated split, the scaling, and strict errors that name file and line.</summary>
public class CsvDatasetTests
{
    private static string Bundled(string name) => Path.Combine(Path.GetDirectoryName(DatasetLoader.FindBundled([AppContext.BaseDirectory]))!, name);

    [TestCase("digits", "digits.csv.gz", "46abec6b12486ad9e51943373abcf22bbea1b5a51a1619b361570d8893f1464a", 1438, 359, 64, 10)]
    [TestCase("wine", "wine_data.csv", "10e8a802908b34f86e5da8ce962f3c806694bc98450a18f61851af59f324bede", 142, 36, 13, 3)]
    public void BundledSetsMatchTheirReadme(string dir, string file, string sha256, int train, int test, int features, int classes)
    {
        string folder = Bundled(dir);
        Assert.That(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(folder, file)))), Is.EqualTo(sha256));
        foreach (var doc in new[] { "README.md", "LICENSE", "DESCR.rst" }) Assert.That(File.Exists(Path.Combine(folder, doc)), doc);
        var (trainSet, testSet) = DatasetLoader.Load(folder);
        Assert.That((trainSet.Count, testSet.Count, trainSet.Pixels, trainSet.Classes), Is.EqualTo((train, test, features, classes)));
        // Stratified: each class's test share is round(0.2 × its count).
        for (int c = 0; c < classes; c++)
        {
            int inTest = testSet.Labels.Count(l => l == c), total = inTest + trainSet.Labels.Count(l => l == c);
            Assert.That(inTest, Is.EqualTo((int)Math.Round(0.2 * total, MidpointRounding.AwayFromZero)), $"class {c}");
        }
        // Same rule, same split: loading twice gives the same sets.
        var (again, _) = DatasetLoader.Load(folder);
        Assert.That(again.Images, Is.EqualTo(trainSet.Images));
    }

    [Test]
    public void DigitsAreScaledToTheUnitIntervalAndWineIsStandardisedOnTheTrainingSplit()
    {
        var (digits, _) = DatasetLoader.Load(Bundled("digits"));
        Assert.That(digits.Images.Min(), Is.EqualTo(0f));
        Assert.That(digits.Images.Max(), Is.EqualTo(1f));
        var (wine, _) = DatasetLoader.Load(Bundled("wine"));
        for (int j = 0; j < 13; j++)
        {
            var column = Enumerable.Range(0, wine.Count).Select(r => (double)wine.Images[r * 13 + j]).ToArray();
            double mean = column.Average(), std = Math.Sqrt(column.Select(v => (v - mean) * (v - mean)).Average());
            Assert.That(mean, Is.EqualTo(0).Within(1e-5), $"feature {j}");
            Assert.That(std, Is.EqualTo(1).Within(1e-5), $"feature {j}");
        }
    }

    [TestCase("178,13,class_0,class_1,class_2\n1,2,3,4,5,6,7,8,9,10,11,12,13,0\n", "wine_data.csv:", "declares 178 rows")]
    [TestCase("2,13,class_0,class_1,class_2\n1,2,3,4,5,6,7,8,9,10,11,12,13,0\n1,2,3,4,5,6,7,8,9,10,11,12,0\n", "wine_data.csv: line 3:", "14 fields")]
    [TestCase("1,13,class_0,class_1,class_2\n1,2,3,4,x,6,7,8,9,10,11,12,13,0\n", "wine_data.csv: line 2:", "feature 5 'x'")]
    [TestCase("1,13,class_0,class_1,class_2\n1,2,3,4,5,6,7,8,9,10,11,12,13,3\n", "wine_data.csv: line 2:", "label '3'")]
    [TestCase("13,class_0\n", "wine_data.csv: line 1:", "header")]
    public void BadFilesGiveErrorsNamingFileAndLine(string content, string where, string what)
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("wine_data.csv"), content);
        var e = Assert.Throws<InputException>(() => DatasetLoader.Load(dir.Path))!;
        Assert.That(e.Kind, Is.EqualTo(InputProblem.Content));
        Assert.That(e.Message, Does.Contain(where).And.Contain(what));
    }
}
