using System.Diagnostics;
using OptEq.Kernels;

namespace OptEq.Cli.Bench;

/// <summary>The timing rule of the kernel benches (bench conv, bench gram): the median of single calls after a warm-up, each
/// call followed by a device synchronisation so that an asynchronous backend is timed to completion.</summary>
public static class CallTiming
{
    /// <summary>The median of <see cref="Milliseconds"/>.</summary>
    public static double MedianMilliseconds(Device device, Action call, int warmup, int repetitions, double maxSeconds = 5)
        => Median(Milliseconds(device, call, warmup, repetitions, maxSeconds));

    /// <summary>
    /// The milliseconds of each timed call, after <paramref name="warmup"/> untimed ones. Timed calls stop early once three
    /// have been made and together have taken <paramref name="maxSeconds"/>: one slow row (the exact Fourier-domain norm
    /// took 975 ms a call on an H200) must not hold a whole table.
    /// </summary>
    public static double[] Milliseconds(Device device, Action call, int warmup, int repetitions, double maxSeconds = 5)
    {
        for (int i = 0; i < warmup; i++) call();
        device.Synchronize();
        var times = new List<double>(repetitions);
        double spent = 0;
        while (times.Count < repetitions && (times.Count < 3 || spent < maxSeconds * 1e3))
        {
            long start = Stopwatch.GetTimestamp();
            call();
            device.Synchronize();
            times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            spent += times[^1];
        }
        return [.. times];
    }

    /// <summary>The median of a non-empty list (the mean of the middle two for an even count).</summary>
    public static double Median(IReadOnlyCollection<double> values)
    {
        if (values.Count == 0) throw new ArgumentException("the median of no values", nameof(values));
        var sorted = values.Order().ToArray();
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
