using System.Buffers.Binary;
using NUnit.Framework;
using OptEq.Cli.Reporting;
using OptEq.Tests.Data;
using SkiaSharp;

namespace OptEq.Tests.Reporting;

public class PlotsTests
{
    private static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
    // ScottPlot's first palette colour (Category10 blue), used for the first series.
    private static readonly SKColor FirstSeriesColor = new(0x1f, 0x77, 0xb4);

    /// <summary>Width and height from the IHDR chunk, after checking the signature and that IHDR comes first.</summary>
    private static (int Width, int Height) PngSize(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        Assert.That(bytes.Length, Is.GreaterThan(33), "too short for a PNG header");
        Assert.That(bytes[..8], Is.EqualTo(PngSignature), "PNG signature");
        Assert.That(System.Text.Encoding.ASCII.GetString(bytes, 12, 4), Is.EqualTo("IHDR"));
        return (BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)));
    }

    /// <summary>Pixels within a small distance of <paramref name="color"/>: a drawn line leaves hundreds.</summary>
    private static int CountPixels(string path, SKColor color)
    {
        using var bitmap = SKBitmap.Decode(path);
        Assert.That(bitmap, Is.Not.Null, "the PNG decodes");
        int count = 0;
        for (int y = 0; y < bitmap.Height; y++)
            for (int x = 0; x < bitmap.Width; x++)
            {
                SKColor p = bitmap.GetPixel(x, y);
                if (Math.Abs(p.Red - color.Red) + Math.Abs(p.Green - color.Green) + Math.Abs(p.Blue - color.Blue) < 30)
                    count++;
            }
        return count;
    }

    private static double[] Range(int n) => Enumerable.Range(0, n).Select(i => (double)i).ToArray();

    [Test]
    public void LinearPlotIsPngOfRequestedSizeAndDrawsTheLines()
    {
        using var dir = new TempDirectory();
        string path = dir.File("loss.png");
        double[] epochs = Range(10);
        double[] loss = epochs.Select(e => 2.0 / (e + 1)).ToArray();
        loss[4] = double.NaN; // a diverged batch must not sink the whole plot
        double[] acc = epochs.Select(e => 0.5 + e / 20).ToArray();
        acc[7] = double.PositiveInfinity;

        Plots.SaveLines(path, "training", "epoch", "value",
            [new PlotSeries("loss", epochs, loss), new PlotSeries("accuracy", epochs, acc)], width: 640, height: 480);

        Assert.That(PngSize(path), Is.EqualTo((640, 480)));
        Assert.That(CountPixels(path, FirstSeriesColor), Is.GreaterThan(200), "the first series is drawn");
    }

    [Test]
    public void LogPlotSkipsNonPositiveAndNonFinitePoints()
    {
        using var dir = new TempDirectory();
        string path = dir.File("residual.png");
        double[] iters = Range(40);
        double[] converging = iters.Select(i => Math.Pow(0.6, i)).ToArray();
        converging[^1] = 0;          // exactly converged
        converging[10] = double.NaN;
        double[] noisy = iters.Select(i => i % 5 == 0 ? -1.0 : Math.Pow(0.8, i)).ToArray();

        Plots.SaveLines(path, "residuals", "iteration", "residual",
            [new PlotSeries("anderson", iters, converging), new PlotSeries("picard", iters, noisy)], logY: true);

        Assert.That(PngSize(path), Is.EqualTo((800, 500)));
        Assert.That(CountPixels(path, FirstSeriesColor), Is.GreaterThan(200), "the first series is drawn");
    }

    [Test]
    public void LogPlotWithNothingPlottableStillWritesAnEmptyPlot()
    {
        using var dir = new TempDirectory();
        string path = dir.File("empty.png");

        // No label, so no legend swatch: any series-coloured pixel would be a drawn point.
        Plots.SaveLines(path, "diverged", "iteration", "residual",
            [new PlotSeries("", Range(3), [0, -1, double.NaN])], logY: true, width: 300, height: 200);

        Assert.That(PngSize(path), Is.EqualTo((300, 200)));
        Assert.That(CountPixels(path, FirstSeriesColor), Is.Zero);
    }

    [Test]
    public void MissingFolderIsAnIOExceptionNamingThePath()
    {
        using var dir = new TempDirectory();
        string path = Path.Combine(dir.Path, "no-such-folder", "plot.png");

        var error = Assert.Throws<DirectoryNotFoundException>(() =>
            Plots.SaveLines(path, "t", "x", "y", [new PlotSeries("a", [0, 1], [1, 2])]));

        Assert.That(error, Is.InstanceOf<IOException>());
        Assert.That(error!.Message, Does.Contain(path));
        Assert.That(Directory.GetFileSystemEntries(dir.Path), Is.Empty, "nothing written anywhere");
    }

    [Test]
    public void ExistingFileIsReplacedWithoutLeavingTemporaryFiles()
    {
        using var dir = new TempDirectory();
        string path = dir.File("plot.png");
        File.WriteAllText(path, "an old plot");

        Plots.SaveLines(path, "t", "x", "y", [new PlotSeries("a", [0, 1, 2], [3, 1, 2])], width: 320, height: 240);

        Assert.That(PngSize(path), Is.EqualTo((320, 240)));
        Assert.That(Directory.GetFileSystemEntries(dir.Path).Select(Path.GetFileName), Is.EqualTo(new[] { "plot.png" }));
    }

    [Test]
    public void SeriesWithMismatchedLengthsIsRejectedByName()
    {
        using var dir = new TempDirectory();
        var error = Assert.Throws<ArgumentException>(() =>
            Plots.SaveLines(dir.File("p.png"), "t", "x", "y", [new PlotSeries("train loss", [0, 1, 2], [1, 2])]));
        Assert.That(error!.Message, Does.Contain("train loss"));
        Assert.That(File.Exists(dir.File("p.png")), Is.False);
    }

    [Test]
    public void LogTicksLabelEveryDecadeAsPowersOfTen()
    {
        var ticks = LogTicks.Ticks(-8, 0, axisPixels: 350);

        var major = ticks.Where(t => t.IsMajor).OrderBy(t => t.Position).ToArray();
        Assert.That(major.Select(t => t.Label),
            Is.EqualTo(new[] { "1e-8", "1e-7", "1e-6", "1e-5", "1e-4", "1e-3", "1e-2", "1e-1", "1" }));
        Assert.That(major.Select(t => t.Position), Is.EqualTo(Enumerable.Range(-8, 9).Select(e => (double)e)));
        // 2..9 × 10^d inside each of the 8 decades.
        Assert.That(ticks.Count(t => !t.IsMajor), Is.EqualTo(8 * 8));
    }

    [Test]
    public void LogTicksThinOutLabelsOnLongSpansButKeepOne()
    {
        var labels = LogTicks.Ticks(-16, 2, axisPixels: 100).Where(t => t.IsMajor).Select(t => t.Label).ToArray();

        Assert.That(labels.Length, Is.LessThanOrEqualTo(100 / 25));
        Assert.That(labels, Does.Contain("1"));
    }

    [Test]
    public void LogTicksOfASingleDecadeAlsoLabelTwoAndFive()
    {
        var major = LogTicks.Ticks(-1, 0, axisPixels: 350).Where(t => t.IsMajor).OrderBy(t => t.Position).ToArray();

        Assert.That(major.Select(t => t.Label), Is.EqualTo(new[] { "1e-1", "2e-1", "5e-1", "1" }));
        Assert.That(major[2].Position, Is.EqualTo(Math.Log10(0.5)).Within(1e-12));
    }

    [Test]
    public void DecadeLimitsEncloseTheDataInWholeDecades()
    {
        Assert.That(LogTicks.DecadeLimits(Math.Log10(3e-7), Math.Log10(0.5)), Is.EqualTo((-7.0, 0.0)));
        // Less than a decade of data still gets one full decade.
        Assert.That(LogTicks.DecadeLimits(Math.Log10(0.2), Math.Log10(0.2)), Is.EqualTo((-1.0, 0.0)));
    }
}
