namespace OptEq.Autodiff.Distributed;

/// <summary>
/// The collective operations data-parallel training needs between the processes of one run. A single process uses
/// <see cref="SingleProcess"/> (every call returns at once); a run launched by <c>mpirun</c> uses
/// <see cref="MpiCommunicator"/>. Every rank must make the same calls in the same order.
/// </summary>
public interface ITrainingCommunicator : IDisposable
{
    /// <summary>This process's index among the ranks, from 0.</summary>
    int Rank { get; }
    /// <summary>Number of processes in the run.</summary>
    int Ranks { get; }
    /// <summary>This process's index among the ranks on its machine (for choosing a device), from 0.</summary>
    int LocalRank { get; }
    /// <summary>What carries the collectives, for the log (e.g. "Open MPI v4.1.4").</summary>
    string Description { get; }

    /// <summary>Sums <paramref name="values"/> element-wise over all ranks, in place (every rank gets the sum).</summary>
    void AllReduceSum(Span<float> values);
    void AllReduceSum(Span<double> values);
    /// <summary>Element-wise maximum over all ranks, in place.</summary>
    void AllReduceMax(Span<double> values);
    /// <summary>Overwrites <paramref name="values"/> on every rank with rank <paramref name="root"/>'s.</summary>
    void Broadcast(Span<float> values, int root = 0);
    void Barrier();
    /// <summary>Ends every rank of the run with <paramref name="exitCode"/> (a rank that failed alone must not leave the
    /// others waiting in a collective). Does not return when there are several ranks.</summary>
    void Abort(int exitCode);
}

/// <summary>One process, no communication: every collective leaves its data as it is.</summary>
public sealed class SingleProcess : ITrainingCommunicator
{
    public static readonly SingleProcess Instance = new();

    public int Rank => 0;
    public int Ranks => 1;
    public int LocalRank => 0;
    public string Description => "single process";
    public void AllReduceSum(Span<float> values) { }
    public void AllReduceSum(Span<double> values) { }
    public void AllReduceMax(Span<double> values) { }
    public void Broadcast(Span<float> values, int root = 0) { }
    public void Barrier() { }
    public void Abort(int exitCode) { }
    public void Dispose() { }
}
