using ScottPlot;

namespace OptEq.Cli.Reporting;

/// <summary>PNG line plots for training curves and solver residuals.</summary>
public static class Plots
{
    // Markers make a handful of per-epoch points readable but turn a 500-iteration residual curve into a smear.
    private const int MaxPointsWithMarkers = 50;
    // Title, x axis and legend take roughly this much of the height; the rest is the data area the y ticks share.
    private const int VerticalChromePixels = 150;

    /// <summary>
    /// Writes a PNG line plot with title, axis labels and a legend. Points whose X or Y is NaN/infinite
    /// (or, with <paramref name="logY"/>, whose Y is zero or negative) are skipped, so a diverged or
    /// exactly-converged run still plots. The file appears atomically: it is rendered to a temporary file
    /// in the same folder and renamed over <paramref name="path"/>.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The folder of <paramref name="path"/> does not exist.</exception>
    public static void SaveLines(string path, string title, string xLabel, string yLabel,
        IReadOnlyList<PlotSeries> series, bool logY = false, int width = 800, int height = 500)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(series);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 16);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 16);

        string fullPath = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(fullPath)!;
        // Checked before rendering so the error names the plot, not a temporary file.
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"Cannot write plot '{fullPath}': the folder '{folder}' does not exist.");

        byte[] png = Render(title, xLabel, yLabel, series, logY, width, height);
        AtomicFile.Write(fullPath, png);
    }

    private static byte[] Render(string title, string xLabel, string yLabel,
        IReadOnlyList<PlotSeries> series, bool logY, int width, int height)
    {
        using var plot = new Plot();
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);

        double minY = double.PositiveInfinity, maxY = double.NegativeInfinity;
        bool anyLabel = false;
        for (int s = 0; s < series.Count; s++)
        {
            PlotSeries line = series[s] ?? throw new ArgumentException($"series[{s}] is null.", nameof(series));
            if (line.X.Length != line.Y.Length)
                throw new ArgumentException(
                    $"Series '{line.Label}' has {line.X.Length} x values but {line.Y.Length} y values.", nameof(series));

            (double[] xs, double[] ys) = Plottable(line, logY);
            var scatter = plot.Add.ScatterLine(xs, ys);
            scatter.LegendText = line.Label;
            scatter.LineWidth = 2;
            if (xs.Length <= MaxPointsWithMarkers)
            {
                scatter.MarkerShape = MarkerShape.FilledCircle;
                scatter.MarkerSize = 5;
            }
            anyLabel |= !string.IsNullOrEmpty(line.Label);
            foreach (double y in ys)
            {
                minY = Math.Min(minY, y);
                maxY = Math.Max(maxY, y);
            }
        }

        if (anyLabel)
            plot.ShowLegend(Edge.Bottom);

        plot.Axes.AutoScale();
        int dataHeight = Math.Max(50, height - VerticalChromePixels);
        if (logY && minY <= maxY)
        {
            // Whole decades top to bottom, so the axis starts and ends on a labelled tick.
            (double low, double high) = LogTicks.DecadeLimits(minY, maxY);
            plot.Axes.SetLimitsY(low, high);
            plot.Axes.Left.TickGenerator = LogTicks.Create(low, high, dataHeight);
        }
        else if (logY)
        {
            // Nothing plottable: still show a sensible log axis instead of ScottPlot's default linear one.
            plot.Axes.SetLimitsY(-1, 0);
            plot.Axes.Left.TickGenerator = LogTicks.Create(-1, 0, dataHeight);
        }

        return plot.GetImageBytes(width, height, ImageFormat.Png);
    }

    /// <summary>The points of a series that can be drawn, with Y as log10(Y) on a log axis.</summary>
    private static (double[] X, double[] Y) Plottable(PlotSeries line, bool logY)
    {
        var xs = new List<double>(line.X.Length);
        var ys = new List<double>(line.Y.Length);
        for (int i = 0; i < line.X.Length; i++)
        {
            double x = line.X[i], y = line.Y[i];
            if (!double.IsFinite(x) || !double.IsFinite(y) || (logY && y <= 0))
                continue;
            xs.Add(x);
            ys.Add(logY ? Math.Log10(y) : y);
        }
        return (xs.ToArray(), ys.ToArray());
    }
}
