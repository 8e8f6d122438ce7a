using System.Runtime.CompilerServices;

namespace OptEq.Kernels.Native;

/// <summary>A loop body over a range of rows (or samples, or tiles): a struct, so a call allocates nothing.</summary>
internal interface IRangeBody
{
    void Run(int start, int end);
}

/// <summary>How the native backend splits work across cores. One place, so the policy can change without touching kernels.</summary>
internal static unsafe class NativeParallel
{
    /// <summary>Below this much work (items × work per item) a loop runs on the calling thread: forking costs more than it saves.</summary>
    public const long SerialThreshold = 1 << 15;

    public static int Workers => WorkerTeam.MaxParts;

    /// <summary>
    /// Runs body.Run(start, end) over [0, count) in one contiguous range per core, on the <see cref="WorkerTeam"/> when the
    /// work is large. The body is a struct of pointers and sizes passed by address to the workers: no closure, no allocation.
    /// </summary>
    public static void For<TBody>(int count, long workPerItem, TBody body) where TBody : struct, IRangeBody
    {
        if (count <= 0) return;
        int parts = (long)count * workPerItem < SerialThreshold ? 1 : Math.Min(count, Workers);
        if (parts == 1) { body.Run(0, count); return; }
        var job = new RangeJob<TBody> { Count = count, Body = body };
        // job lives in this frame until Run returns, and holds no managed references: its address is stable.
        WorkerTeam.Run(&RunPart<TBody>, Unsafe.AsPointer(ref job), parts);
    }

    private struct RangeJob<TBody> where TBody : struct, IRangeBody
    {
        public int Count;
        public TBody Body;
    }

    private static void RunPart<TBody>(void* state, int part, int parts) where TBody : struct, IRangeBody
    {
        ref var job = ref Unsafe.AsRef<RangeJob<TBody>>(state);
        int start = (int)((long)job.Count * part / parts), end = (int)((long)job.Count * (part + 1) / parts);
        if (end > start) job.Body.Run(start, end);
    }
}
