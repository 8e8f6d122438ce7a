using System.Diagnostics;
using OptEq.Kernels;

namespace OptEq.Cli.Bench;

/// <summary>The timing rule of the kernel benches (bench conv, bench gram): the median of single calls after a warm-up, each
/// call followed by a device synchronisation so that an asynchronous backend is timed to completion.</summary>
public static class CallTiming
{
    /// <summary>
    /// Timed calls stop early once three have been made and the timed calls together have taken
    /// <paramref name="maxSeconds"/>: one slow row (the exact Fourier-domain norm took 975 ms a call on an H200) must not
    /// hold a whole table. The median is then of the calls made.
    /// </summary>
    public static double MedianMilliseconds(Device device, Action call, int warmup, int repetitions, double maxSeconds = 5)
    {
        for (int i = 0; i < warmup; i++) call();
        device.Synchronize();
        var times = new double[repetitions];
        int made = 0;
        double spent = 0;
        while (made < repetitions && (made < 3 || spent < maxSeconds * 1e3))
        {
            long start = Stopwatch.GetTimestamp();
            call();
            device.Synchronize();
            times[made] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            spent += times[made++];
        }
        Array.Sort(times, 0, made);
        return made % 2 == 1 ? times[made / 2] : (times[made / 2 - 1] + times[made / 2]) / 2;
    }
}
