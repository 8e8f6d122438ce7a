using System.Diagnostics;

namespace OptEq.Cli.Bench;

/// <summary>
/// Times competitors on the same case by turns (a few slices each, alternating), so that a busy machine slows both alike;
/// reports the median time of one call, which a few preempted calls do not move.
/// (Calls shorter than 20 µs are timed in groups and divided.)
/// </summary>
public static class GemmTiming
{
    private const int Slices = 3;

    /// <summary>
    /// Untimed calls that open every slice. Idle threads of a BLAS keep spinning after its last call (OpenBLAS for about
    /// 0.1 s: 2^28 cycles, OPENBLAS_THREAD_TIMEOUT; OptEq's worker for 200 µs), taking cores from whatever runs next;
    /// so no competitor is timed until the previous one's threads have gone to sleep.
    /// </summary>
    private const double SettleSeconds = 0.15;

    /// <summary>
    /// Warms each competitor up, then runs each for about <paramref name="seconds"/> in all, by alternating slices.
    /// Returns the median seconds per call of each (every call is followed by its synchronize action).
    /// </summary>
    public static double[] MedianSeconds(IReadOnlyList<(Action Call, Action Synchronize)> competitors, double seconds)
    {
        var samples = competitors.Select(_ => new List<double>()).ToArray();
        var callsPerSample = new int[competitors.Count];
        for (int i = 0; i < competitors.Count; i++)
        {
            // Warm-up (JIT, packing buffers, worker threads, caches), which also sizes the samples.
            var (call, sync) = competitors[i];
            var warmUp = new List<double>();
            RunFor(call, sync, 1, Math.Min(0.1, seconds / 4), warmUp);
            callsPerSample[i] = (int)Math.Clamp(Math.Ceiling(MinSampleSeconds / Median(warmUp)), 1, 1_000_000);
        }
        for (int slice = 0; slice < Slices; slice++)
            for (int i = 0; i < competitors.Count; i++)
            {
                if (competitors.Count > 1) RunFor(competitors[i].Call, competitors[i].Synchronize, callsPerSample[i], SettleSeconds, []);
                RunFor(competitors[i].Call, competitors[i].Synchronize, callsPerSample[i], seconds / Slices, samples[i]);
            }
        return samples.Select(Median).ToArray();
    }

    /// <summary>Shortest sample: tiny GEMMs are timed over several calls, so that the clock's cost and grain do not count.</summary>
    private const double MinSampleSeconds = 20e-6;

    private static void RunFor(Action call, Action sync, int callsPerSample, double seconds, List<double> samples)
    {
        long end = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
        do
        {
            long start = Stopwatch.GetTimestamp();
            for (int c = 0; c < callsPerSample; c++)
            {
                call();
                sync();
            }
            samples.Add(Stopwatch.GetElapsedTime(start).TotalSeconds / callsPerSample);
        } while (Stopwatch.GetTimestamp() < end || samples.Count < 2);
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        int n = values.Count;
        return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    }
}
