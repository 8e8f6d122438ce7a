namespace OptEq.Autodiff.Distributed;

/// <summary>
/// <see cref="ITrainingCommunicator"/> over MPI_COMM_WORLD. Construction initialises MPI (unless the host already
/// did) and sets MPI_ERRORS_RETURN, so a failed call becomes an <see cref="MpiException"/> with MPI's own message;
/// <see cref="Dispose"/> finalises it. A rank that dies is handled by the launcher: Open MPI's <c>mpirun</c> (and
/// MPICH's Hydra) end the whole job when one process exits abnormally, so the survivors never wait forever.
/// </summary>
public sealed class MpiCommunicator : ITrainingCommunicator
{
    private readonly MpiLibrary _mpi;
    private readonly bool _initializedHere;
    private bool _disposed;

    public MpiCommunicator(MpiLibrary mpi, int localRank)
    {
        _mpi = mpi;
        if (!mpi.IsInitialized())
        {
            int provided = mpi.InitThread();
            _initializedHere = true;
            // FUNNELED (1) suffices: training calls MPI from the thread that created the communicator.
            if (provided < 1) throw new MpiException($"{mpi.Implementation} provides thread level {provided}; training needs at least MPI_THREAD_FUNNELED");
        }
        mpi.ReturnErrors();
        Rank = mpi.WorldRank();
        Ranks = mpi.WorldSize();
        LocalRank = localRank;
        Description = $"{mpi.LibraryVersion()} ({mpi.Path})";
    }

    public int Rank { get; }
    public int Ranks { get; }
    public int LocalRank { get; }
    public string Description { get; }

    public void AllReduceSum(Span<float> values) => _mpi.AllreduceInPlace(values, MpiOp.Sum);
    public void AllReduceSum(Span<double> values) => _mpi.AllreduceInPlace(values, MpiOp.Sum);
    public void AllReduceMax(Span<double> values) => _mpi.AllreduceInPlace(values, MpiOp.Max);
    public void Broadcast(Span<float> values, int root = 0) => _mpi.Broadcast(values, root);
    public void Barrier() => _mpi.Barrier();

    public void Abort(int exitCode)
    {
        Console.Out.Flush();
        Console.Error.Flush();
        _mpi.Abort(exitCode);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_initializedHere && !_mpi.IsFinalized()) _mpi.FinalizeMpi();
    }
}
