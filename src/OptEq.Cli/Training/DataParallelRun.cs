using OptEq.Autodiff.Distributed;
using OptEq.Autodiff.Training;
using OptEq.Cli.Commands;
using OptEq.Kernels;

namespace OptEq.Cli.Training;

/// <summary>
/// Runs a training command in this process alone or, when launched by <c>mpirun</c>, as one rank of a data-parallel
/// run: MPI is loaded and initialised only then, ranks other than 0 print nothing, and a rank that fails ends the
/// whole job with MPI_Abort, so the others never wait in a collective for a rank that is gone.
/// </summary>
public static class DataParallelRun
{
    public static int Run(Func<ITrainingCommunicator, int> train)
    {
        ITrainingCommunicator communicator;
        try { communicator = LaunchEnvironment.Open(); }
        catch (MpiException e)
        {
            Console.Error.WriteLine($"opteq: error: launched by an MPI launcher, but {e.Message}");
            return 1;
        }
        if (communicator.Ranks == 1) // no other rank can be left waiting: exceptions go their usual way
            using (communicator) return train(communicator);

        var stdout = Console.Out;
        if (communicator.Rank != 0) Console.SetOut(TextWriter.Null);
        int exit;
        try
        {
            exit = train(communicator);
        }
        catch (Exception e)
        {
            // The same classification as a single process (docs/cli.md): an expected error is one line, a bug keeps its trace.
            int? code = CliErrors.ExitCode(e) ?? (e is MpiException ? CliErrors.UsageError : null);
            Console.Error.WriteLine($"opteq: error on rank {communicator.Rank} of {communicator.Ranks}: {(code is not null ? CliErrors.Message(e) : e.ToString())}");
            exit = code ?? 1;
        }
        finally
        {
            Console.SetOut(stdout);
        }
        if (exit != 0)
        {
            Console.Error.WriteLine($"opteq: rank {communicator.Rank} failed (exit {exit}); aborting all {communicator.Ranks} ranks");
            communicator.Abort(exit);
        }
        communicator.Dispose();
        return exit;
    }
}
