using NUnit.Framework;
using OptEq.Autodiff.Training;
using OptEq.Kernels.Native;

namespace OptEq.Tests;

/// <summary>
/// Asserts that repeated calls allocate no managed memory, on the calling thread or in the native worker team.
/// </summary>
/// <remarks>
/// Measured in rounds, passing on the first round that allocates nothing (at most five). CI once saw 536 bytes in one
/// round of a fresh-process run, never reproduced here; the suspected source (not confirmed) is the runtime's own one-time
/// work on the calling thread, such as starting its tiered-compilation worker. A one-time allocation is not the library's
/// steady state; an allocation per call, or one every few calls, shows in every round and fails.
/// </remarks>
internal static class SteadyStateAllocation
{
    /// <summary>Managed bytes one run of <paramref name="action"/> allocates on this thread and in the worker team.</summary>
    public static long Bytes(Action action)
    {
        long caller = GC.GetAllocatedBytesForCurrentThread(), workers = WorkerTeam.WorkerAllocatedBytes;
        action();
        return GC.GetAllocatedBytesForCurrentThread() - caller + (WorkerTeam.WorkerAllocatedBytes - workers);
    }

    public static void AssertNone(Action call, int callsPerRound, string what)
    {
        var rounds = new List<string>();
        for (int round = 0; round < 5; round++)
        {
            // Per thread, so that what the test host allocates on its own threads does not count.
            long caller = GC.GetAllocatedBytesForCurrentThread(), workers = WorkerTeam.WorkerAllocatedBytes;
            for (int i = 0; i < callsPerRound; i++) call();
            long callerBytes = GC.GetAllocatedBytesForCurrentThread() - caller;
            long workerBytes = WorkerTeam.WorkerAllocatedBytes - workers;
            if (callerBytes == 0 && workerBytes == 0) return;
            rounds.Add($"calling thread {callerBytes} B, worker threads {workerBytes} B");
        }
        Assert.Fail($"{what}: every round of {callsPerRound} steady-state calls allocated ({string.Join("; ", rounds)})");
    }

    /// <summary>
    /// Steps <paramref name="trainer"/> through epoch 1's batches, <paramref name="warmUp"/> steps first (the capture,
    /// the workspaces, the first JIT), then <see cref="AssertNone"/> over rounds of <paramref name="stepsPerRound"/>.
    /// MoveNext gathers, shifts and uploads the batch: part of the step.
    /// </summary>
    public static void AssertTrainingSteps(Trainer trainer, int warmUp, int stepsPerRound, string what)
    {
        using var batches = trainer.Batches(epoch: 1).GetEnumerator();
        void Step()
        {
            // No Assert here: NUnit's constraints allocate.
            if (!batches.MoveNext()) throw new InvalidOperationException("the epoch ended early");
            trainer.Step(batches.Current, epoch: 1);
        }
        for (int i = 0; i < warmUp; i++) Step();
        AssertNone(Step, stepsPerRound, what);
    }
}
