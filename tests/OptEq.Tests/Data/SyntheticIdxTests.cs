using NUnit.Framework;
using OptEq.Autodiff.Data;

namespace OptEq.Tests.Data;

/// <summary>Small IDX sets written by the test: 3 classes, 5×7 images; round trips and every corruption.</summary>
public class SyntheticIdxTests
{
    private const int Rows = 5, Cols = 7, Pixels = Rows * Cols;
    private const string TrainImages = "train-images-idx3-ubyte", TrainLabels = "train-labels-idx1-ubyte";
    private const string TestImages = "t10k-images-idx3-ubyte", TestLabels = "t10k-labels-idx1-ubyte";

    private static readonly byte[] TrainLabelBytes = [2, 0, 1, 2];
    private static readonly byte[] TestLabelBytes = [1, 0];

    /// <summary>Image bytes that hit 0 and 255 and differ between images.</summary>
    private static byte[] ImageBytes(int count, int salt)
    {
        var b = new byte[count * Pixels];
        for (int i = 0; i < b.Length; i++) b[i] = (byte)((i * 37 + salt * 11) % 256);
        b[0] = 0;
        b[^1] = 255;
        return b;
    }

    /// <summary>Writes the four files into <paramref name="dir"/>; <paramref name="change"/> may replace any file's raw bytes.</summary>
    private static void WriteSet(string dir, bool gzip, Func<string, byte[], byte[]>? change = null)
    {
        change ??= (_, raw) => raw;
        void Put(string name, byte[] raw) => IdxTestFiles.Write(dir, gzip ? name + ".gz" : name, change(name, raw), gzip);
        Put(TrainImages, IdxTestFiles.Encode([4, Rows, Cols], ImageBytes(4, 1)));
        Put(TrainLabels, IdxTestFiles.Encode([4], TrainLabelBytes));
        Put(TestImages, IdxTestFiles.Encode([2, Rows, Cols], ImageBytes(2, 2)));
        Put(TestLabels, IdxTestFiles.Encode([2], TestLabelBytes));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void RoundTrip(bool gzip)
    {
        using var dir = new TempDirectory();
        WriteSet(dir.Path, gzip);
        var (train, test) = DatasetLoader.Load(dir.Path);

        Assert.That(train.Count, Is.EqualTo(4));
        Assert.That(test.Count, Is.EqualTo(2));
        Assert.That((train.Rows, train.Cols, train.Pixels), Is.EqualTo((Rows, Cols, Pixels)));
        Assert.That((test.Rows, test.Cols), Is.EqualTo((Rows, Cols)));
        Assert.That(train.Classes, Is.EqualTo(3));
        Assert.That(test.Classes, Is.EqualTo(3), "the class count comes from both sets, so the test set agrees with train");
        Assert.That(train.Labels, Is.EqualTo(TrainLabelBytes.Select(b => (int)b)));
        Assert.That(test.Labels, Is.EqualTo(TestLabelBytes.Select(b => (int)b)));
        Assert.That(train.Images, Is.EqualTo(ImageBytes(4, 1).Select(b => b / 255f)));
        Assert.That(test.Images, Is.EqualTo(ImageBytes(2, 2).Select(b => b / 255f)));
        Assert.That(train.Images.Min(), Is.EqualTo(0f));
        Assert.That(train.Images.Max(), Is.EqualTo(1f));
        Assert.That(train.Image(1).ToArray(), Is.EqualTo(train.Images.Skip(Pixels).Take(Pixels)));
    }

    [Test]
    public void GzipIsDetectedByContentNotByName()
    {
        using var dir = new TempDirectory();
        var raw = IdxTestFiles.Encode([3], [0, 1, 2]);
        string gzNamedPlain = IdxTestFiles.Write(dir.Path, "labels", raw, gzip: true);
        string plainNamedGz = IdxTestFiles.Write(dir.Path, "labels.gz", raw, gzip: false);
        Assert.That(IdxReader.ReadLabels(gzNamedPlain).Data, Is.EqualTo(new byte[] { 0, 1, 2 }));
        Assert.That(IdxReader.ReadLabels(plainNamedGz).Data, Is.EqualTo(new byte[] { 0, 1, 2 }));
    }

    [Test]
    public void MixedPlainAndGzippedFilesLoad()
    {
        using var dir = new TempDirectory();
        WriteSet(dir.Path, gzip: false);
        File.Delete(dir.File(TestLabels));
        IdxTestFiles.Write(dir.Path, TestLabels + ".gz", IdxTestFiles.Encode([2], TestLabelBytes), gzip: true);
        var (_, test) = DatasetLoader.Load(dir.Path);
        Assert.That(test.Labels, Is.EqualTo(new[] { 1, 0 }));
    }

    [Test]
    public void GivenClassCountIsUsedAndChecked()
    {
        using var dir = new TempDirectory();
        WriteSet(dir.Path, gzip: false);
        Assert.That(DatasetLoader.Load(dir.Path, classes: 5).Train.Classes, Is.EqualTo(5));
        var e = Assert.Throws<InputException>(() => DatasetLoader.Load(dir.Path, classes: 2))!;
        Assert.That(e.Message, Does.Contain(TrainLabels));
        Assert.That(e.Message, Does.Contain("label 2 at index 0 is outside [0, 2)"));
    }

    [Test]
    public void ImagesAndLabelsOfAnyShapeReadGenerically()
    {
        using var dir = new TempDirectory();
        string path = IdxTestFiles.Write(dir.Path, "cube", IdxTestFiles.Encode([2, 3, 4, 5], Enumerable.Range(0, 120).Select(i => (byte)i).ToArray()), gzip: true);
        var a = IdxReader.Read(path);
        Assert.That(a.Dimensions, Is.EqualTo(new[] { 2, 3, 4, 5 }));
        Assert.That(a.Data[119], Is.EqualTo(119));
    }

    // ---- corruptions: each one an InputException (or FileNotFoundException) naming the file ---------------

    private static InputException LoadFails(bool gzip, string brokenFile, Func<byte[], byte[]> breakIt)
    {
        using var dir = new TempDirectory();
        WriteSet(dir.Path, gzip, (name, raw) => name == brokenFile ? breakIt(raw) : raw);
        var e = Assert.Throws<InputException>(() => DatasetLoader.Load(dir.Path))!;
        Assert.That(e.Message, Does.Contain(Path.Combine(dir.Path, gzip ? brokenFile + ".gz" : brokenFile)), "the message names the file");
        return e;
    }

    [TestCase(false)]
    [TestCase(true)]
    public void WrongMagic(bool gzip)
    {
        var e = LoadFails(gzip, TrainImages, raw => { raw[0] = 0x12; raw[1] = 0x34; return raw; });
        Assert.That(e.Message, Does.Contain("not an IDX file: magic number 0x12340803 does not start with two zero bytes"));
    }

    [Test]
    public void WrongTypeCode()
    {
        var e = LoadFails(false, TrainImages, raw => { raw[2] = 0x0D; return raw; });
        Assert.That(e.Message, Does.Contain("type code 0x0D (float32); only 0x08 (unsigned byte) is supported"));
    }

    [Test]
    public void WrongDimensionCount()
    {
        // A label file where an image file belongs: magic 0x00000801 instead of 0x00000803.
        var e = LoadFails(false, TestImages, _ => IdxTestFiles.Encode([2], [0, 1]));
        Assert.That(e.Message, Does.Contain("magic number 0x00000801 declares 1 dimension(s), expected 3"));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void TruncatedLabels(bool gzip)
    {
        var e = LoadFails(gzip, TestLabels, raw => raw[..^1]);
        Assert.That(e.Message, Does.EndWith("truncated: header says 2 labels, found 1 bytes"));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void TruncatedImages(bool gzip)
    {
        var e = LoadFails(gzip, TrainImages, raw => raw[..^10]);
        Assert.That(e.Message, Does.EndWith($"truncated: header says 4 images of 5×7 ({4 * Pixels} bytes), found {4 * Pixels - 10} bytes"));
    }

    [Test]
    public void TruncatedHeader()
    {
        var e = LoadFails(false, TrainImages, raw => raw[..10]);
        Assert.That(e.Message, Does.Contain("truncated: the header declares 3 dimension(s) (12 bytes), found 6 bytes"));
    }

    [Test]
    public void TruncatedGzipStream()
    {
        // Cut the compressed bytes (not the raw ones): the gzip stream itself ends early.
        using var dir = new TempDirectory();
        WriteSet(dir.Path, gzip: true);
        string path = dir.File(TrainImages + ".gz");
        var gz = File.ReadAllBytes(path);
        File.WriteAllBytes(path, gz[..(gz.Length / 2)]);
        var e = Assert.Throws<InputException>(() => DatasetLoader.Load(dir.Path))!;
        Assert.That(e.Message, Does.StartWith(path + ": ").And.Contain("truncated"));
    }

    [Test]
    public void CorruptGzipStream()
    {
        using var dir = new TempDirectory();
        string path = dir.File("labels.gz");
        File.WriteAllBytes(path, [0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff, 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03]);
        var e = Assert.Throws<InputException>(() => IdxReader.ReadLabels(path))!;
        Assert.That(e.Message, Does.StartWith(path + ": truncated"));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void TrailingGarbage(bool gzip)
    {
        var e = LoadFails(gzip, TrainLabels, raw => [.. raw, 7, 7, 7]);
        Assert.That(e.Message, Does.Contain("3 bytes of trailing garbage after the 4 labels the header declares"));
    }

    [Test]
    public void ImageAndLabelCountMismatchNamesBothFiles()
    {
        using var dir = new TempDirectory();
        WriteSet(dir.Path, gzip: false, (name, raw) => name == TrainLabels ? IdxTestFiles.Encode([3], [0, 1, 2]) : raw);
        var e = Assert.Throws<InputException>(() => DatasetLoader.Load(dir.Path))!;
        Assert.That(e.Message, Is.EqualTo($"{dir.File(TrainLabels)}: has 3 labels but {dir.File(TrainImages)} has 4 images"));
    }

    [Test]
    public void TrainAndTestImageShapesMustAgree()
    {
        using var dir = new TempDirectory();
        WriteSet(dir.Path, gzip: false, (name, raw) => name == TestImages ? IdxTestFiles.Encode([2, 7, 5], ImageBytes(2, 2)) : raw);
        var e = Assert.Throws<InputException>(() => DatasetLoader.Load(dir.Path))!;
        Assert.That(e.Message, Is.EqualTo($"{dir.File(TrainImages)}: has 5×7 images but {dir.File(TestImages)} has 7×5"));
    }

    [Test]
    public void LabelOutOfRangeNamesTheFile()
    {
        using var dir = new TempDirectory();
        string images = IdxTestFiles.Write(dir.Path, "images", IdxTestFiles.Encode([3, 2, 2], new byte[12]), gzip: false);
        string labels = IdxTestFiles.Write(dir.Path, "labels", IdxTestFiles.Encode([3], [0, 9, 1]), gzip: false);
        var e = Assert.Throws<InputException>(() => Dataset.FromIdx("train", IdxReader.ReadImages(images), IdxReader.ReadLabels(labels), classes: 3))!;
        Assert.That(e.Message, Is.EqualTo($"{labels}: label 9 at index 1 is outside [0, 3) (3 classes)"));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void MissingFileNamesIt(bool gzip)
    {
        using var dir = new TempDirectory();
        WriteSet(dir.Path, gzip);
        File.Delete(dir.File(gzip ? TestImages + ".gz" : TestImages));
        var e = Assert.Throws<InputException>(() => DatasetLoader.Load(dir.Path))!;
        Assert.That(e.Message, Does.Contain(TestImages));
        Assert.That(e.Message, Does.Contain("not found"));
        Assert.That(() => IdxReader.Read(dir.File("nope")), Throws.TypeOf<InputException>().With.Message.Contains(dir.File("nope")));
    }

    [Test]
    public void MissingDirectoryIsAClearError()
    {
        string missing = Path.Combine(Path.GetTempPath(), "opteq-no-such-dir-" + Guid.NewGuid().ToString("N"));
        Assert.That(() => DatasetLoader.Load(missing), Throws.TypeOf<InputException>().With.Message.Contains(missing));
    }
}
