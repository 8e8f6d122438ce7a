using System.Diagnostics;
using OptEq.Kernels;

namespace OptEq.Cli.Bench;

/// <summary>The timing rule of the kernel benches (bench conv, bench gram): the median of single calls after a warm-up, each
/// call followed by a device synchronisation so that an asynchronous backend is timed to completion.</summary>
public static class CallTiming
{
    public static double MedianMilliseconds(Device device, Action call, int warmup, int repetitions)
    {
        for (int i = 0; i < warmup; i++) call();
        device.Synchronize();
        var times = new double[repetitions];
        for (int i = 0; i < repetitions; i++)
        {
            long start = Stopwatch.GetTimestamp();
            call();
            device.Synchronize();
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(times);
        return repetitions % 2 == 1 ? times[repetitions / 2] : (times[repetitions / 2 - 1] + times[repetitions / 2]) / 2;
    }
}
