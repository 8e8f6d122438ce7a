using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace OptEq.Kernels.Native;

/// <summary>
/// Persistent worker threads, one per core beside the caller, that split one native kernel call (a GEMM, a row loop)
/// by a static partition.
/// A call hands out a function pointer and a pointer to its state, so it allocates nothing; workers spin briefly
/// after a call (GEMMs in a solver loop come back to back, and waking a blocked thread costs tens of µs), then block.
/// </summary>
/// <remarks>
/// One call uses the team at a time. A second thread calling while it is busy runs its parts itself, serially:
/// correct, never blocked behind another caller.
/// </remarks>
internal static unsafe class WorkerTeam
{
    /// <summary>How long an idle worker keeps spinning (yielding to other runnable threads) before it blocks.</summary>
    private static readonly long SpinTicks = Stopwatch.Frequency / 5000; // 200 µs

    private static readonly Lock StartGate = new();
    private static readonly object SleepGate = new();
    private static int _started; // workers running (not counting callers)
    private static int _busy;    // 1 while a call owns the team

    // The current job: written by the caller before it bumps _generation, read by workers after they see the bump.
    private static delegate*<void*, int, int, void> _work;
    private static void* _state;
    private static int _parts;
    private static int _pending;      // workers that have not yet acknowledged the current job
    private static int _generation;   // bumped once per job
    private static int _sleepers;     // workers blocked (or about to block) in Monitor.Wait
    private static ExceptionDispatchInfo? _failure;
    private static long _workerAllocatedBytes; // managed bytes allocated by workers so far, for tests

    /// <summary>Managed bytes the workers have allocated, as of their last finished job (tests check it stays flat).</summary>
    internal static long WorkerAllocatedBytes => Volatile.Read(ref _workerAllocatedBytes);

    /// <summary>Threads a call can use: the caller plus one worker per other core.</summary>
    public static int MaxParts => Environment.ProcessorCount;

    /// <summary>Runs work(state, part, parts) for every part in [0, parts), the caller taking part 0; returns when all are done.</summary>
    public static void Run(delegate*<void*, int, int, void> work, void* state, int parts)
    {
        parts = Math.Min(parts, MaxParts);
        if (parts <= 1 || Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
        {
            for (int part = 0; part < parts; part++) work(state, part, parts);
            return;
        }
        try
        {
            int workers = EnsureWorkers();
            _work = work;
            _state = state;
            _parts = parts;
            _failure = null;
            // Every worker acknowledges every job, even one without a part in it, so none can lag a job behind.
            Volatile.Write(ref _pending, workers);
            Interlocked.Increment(ref _generation); // full fence: publishes the job, then _sleepers is read
            if (Volatile.Read(ref _sleepers) > 0)
                lock (SleepGate) Monitor.PulseAll(SleepGate);

            try
            {
                work(state, 0, parts);
            }
            finally
            {
                // Even if part 0 failed: the team is not free until every worker is done with this job's state.
                var spinner = new SpinWait();
                while (Volatile.Read(ref _pending) != 0) spinner.SpinOnce(sleep1Threshold: -1);
            }
            _failure?.Throw();
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    /// <summary>Starts the workers on first use (one per core beside the caller); returns how many there are.</summary>
    private static int EnsureWorkers()
    {
        int count = MaxParts - 1;
        if (Volatile.Read(ref _started) == count) return count;
        lock (StartGate)
        {
            // The first job is published after this returns; a worker must wait for the generation after this one even
            // when it starts late, or it would miss that job and the caller would wait for it forever.
            int generation = Volatile.Read(ref _generation);
            for (int w = _started; w < count; w++)
            {
                int part = w + 1;
                new Thread(() => WorkerLoop(part, generation)) { IsBackground = true, Name = $"OptEq GEMM worker {part}" }.Start();
            }
            Volatile.Write(ref _started, count);
        }
        return count;
    }

    private static void WorkerLoop(int part, int seen)
    {
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        while (true)
        {
            seen = WaitForJob(seen);
            if (part < _parts)
            {
                try { _work(_state, part, _parts); }
                catch (Exception e) { _failure = ExceptionDispatchInfo.Capture(e); }
            }
            long now = GC.GetAllocatedBytesForCurrentThread();
            Interlocked.Add(ref _workerAllocatedBytes, now - allocated);
            allocated = now;
            Interlocked.Decrement(ref _pending);
        }
    }

    /// <summary>Waits until the generation moves past <paramref name="seen"/>: spins first, then blocks.</summary>
    private static int WaitForJob(int seen)
    {
        long deadline = Stopwatch.GetTimestamp() + SpinTicks;
        var spinner = new SpinWait();
        int current;
        while ((current = Volatile.Read(ref _generation)) == seen)
        {
            if (Stopwatch.GetTimestamp() < deadline) { spinner.SpinOnce(sleep1Threshold: -1); continue; }
            lock (SleepGate)
            {
                Interlocked.Increment(ref _sleepers); // full fence before re-reading _generation (pairs with the caller's)
                while ((current = Volatile.Read(ref _generation)) == seen) Monitor.Wait(SleepGate);
                Interlocked.Decrement(ref _sleepers);
            }
            return current;
        }
        return current;
    }
}
