namespace OptEq.Kernels.Native;

/// <summary>How the native backend splits work across cores. One place, so the policy can change without touching kernels.</summary>
internal static class NativeParallel
{
    /// <summary>Below this many elements a loop runs on the calling thread: forking costs more than it saves.</summary>
    public const long SerialThreshold = 1 << 15;

    public static int Workers => Environment.ProcessorCount;

    /// <summary>Runs body(start, end) over [0, count) in contiguous chunks, in parallel when the work is large.</summary>
    public static void ForRanges(int count, long workPerItem, Action<int, int> body)
    {
        if (count <= 0) return;
        int chunks = (long)count * workPerItem < SerialThreshold ? 1 : Math.Min(count, Workers * 4);
        if (chunks == 1) { body(0, count); return; }
        Parallel.For(0, chunks, c =>
        {
            int start = (int)((long)count * c / chunks), end = (int)((long)count * (c + 1) / chunks);
            if (end > start) body(start, end);
        });
    }
}
