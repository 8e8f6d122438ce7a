using System.Globalization;
using ScottPlot;
using ScottPlot.TickGenerators;

namespace OptEq.Cli.Reporting;

/// <summary>
/// Ticks for a log10-scaled axis. ScottPlot 5 has no log axis: the plotted values are log10(y), so the
/// ticks are placed at whole exponents and labelled with the value they stand for ("1e-3").
/// </summary>
public static class LogTicks
{
    // Labels closer than this (about two text heights) crowd; wider spans label every 2nd, 3rd... decade.
    private const int MinPixelsPerLabel = 25;
    // Minor ticks at 2..9 × 10^d only help while each decade has room for them.
    private const int MaxDecadesWithMinorTicks = 10;

    /// <summary>Whole decades [floor, ceil] that enclose log10 values in [minLog, maxLog], at least one decade wide.</summary>
    public static (double Low, double High) DecadeLimits(double minLog, double maxLog)
    {
        double low = Math.Floor(minLog);
        double high = Math.Ceiling(maxLog);
        if (high - low < 1)
            high = low + 1;
        return (low, high);
    }

    /// <summary>
    /// Major ticks at whole exponents in [low, high] (both whole numbers) on an axis whose data area is about
    /// <paramref name="axisPixels"/> long, minor ticks at 2..9 × 10^d.
    /// </summary>
    public static List<Tick> Ticks(double low, double high, int axisPixels)
    {
        var ticks = new List<Tick>();
        int first = (int)low, last = (int)high;
        int maxLabels = Math.Max(2, axisPixels / MinPixelsPerLabel);
        int step = Math.Max(1, (int)Math.Ceiling((last - first + 1) / (double)maxLabels));
        for (int e = first; e <= last; e++)
        {
            // Multiples of the step, so 1 (10^0) stays labelled whenever it is in range.
            ticks.Add(e % step == 0 ? Tick.Major(e, Label(1, e)) : Tick.Minor(e));
        }

        if (last - first <= MaxDecadesWithMinorTicks)
        {
            // A single decade would have only two labels, so 2× and 5× get labels there too.
            bool labelTwoAndFive = last - first == 1 && axisPixels >= 3 * MinPixelsPerLabel;
            for (int e = first; e < last; e++)
                for (int k = 2; k <= 9; k++)
                    ticks.Add(labelTwoAndFive && k is 2 or 5
                        ? Tick.Major(e + Math.Log10(k), Label(k, e))
                        : Tick.Minor(e + Math.Log10(k)));
        }
        return ticks;
    }

    /// <summary>A ScottPlot tick generator that shows <see cref="Ticks"/>.</summary>
    public static NumericManual Create(double low, double high, int axisPixels) =>
        new(Ticks(low, high, axisPixels).ToArray());

    /// <summary>
    /// The label of mantissa × 10^exponent: "1e-3", "5e-1" style so every label reads the same way,
    /// with the plain digit for 10^0 ("1", "2", "5").
    /// </summary>
    public static string Label(int mantissa, int exponent) =>
        exponent == 0
            ? mantissa.ToString(CultureInfo.InvariantCulture)
            : string.Create(CultureInfo.InvariantCulture, $"{mantissa}e{exponent}");
}
