namespace OptEq.Autodiff.Distributed;

/// <summary>
/// Whether this process was started by an MPI launcher, read from the variables the launchers set: Open MPI's
/// <c>mpirun</c> sets OMPI_COMM_WORLD_SIZE/_RANK/_LOCAL_RANK (and PMIX_RANK); MPICH's Hydra sets PMI_SIZE/PMI_RANK and
/// MPI_LOCALRANKID. <see cref="Variable"/> overrides the detection: "1" forces MPI, "0" keeps a single process.
/// </summary>
public static class LaunchEnvironment
{
    /// <summary>OPTEQ_MPI: 1 to use MPI, 0 not to, unset to decide from the launcher's variables.</summary>
    public const string Variable = "OPTEQ_MPI";

    private static readonly string[] LauncherVariables = ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"];

    /// <summary>True when the process runs under an MPI launcher (or OPTEQ_MPI=1).</summary>
    public static bool UnderMpiLauncher(Func<string, string?>? read = null)
    {
        read ??= Environment.GetEnvironmentVariable;
        switch (read(Variable)?.Trim())
        {
            case "1": return true;
            case "0": return false;
            case null or "": break;
            case var other: throw new ArgumentException($"{Variable}={other}: expected 1 (use MPI) or 0 (single process)");
        }
        return LauncherVariables.Any(name => !string.IsNullOrEmpty(read(name)));
    }

    /// <summary>The rank within this machine as the launcher says (0 when it does not).</summary>
    public static int LocalRank(Func<string, string?>? read = null)
    {
        read ??= Environment.GetEnvironmentVariable;
        foreach (string name in (string[])["OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "PMIX_LOCAL_RANK"])
            if (int.TryParse(read(name), out int rank) && rank >= 0) return rank;
        return 0;
    }

    /// <summary>
    /// The communicator for this process: MPI when launched by an MPI launcher (loading the library only then),
    /// else <see cref="SingleProcess"/>. Dispose it at the end of the run (it finalises MPI).
    /// </summary>
    public static ITrainingCommunicator Open()
        => UnderMpiLauncher() ? new MpiCommunicator(MpiLibrary.Load(), LocalRank()) : SingleProcess.Instance;

    /// <summary>Replaces {local_rank} and {rank} in a device id (e.g. "cuda:{local_rank}"), so each rank of a machine
    /// picks its own device; null stays null (the default device).</summary>
    public static string? DeviceFor(string? device, ITrainingCommunicator communicator)
        => device?.Replace("{local_rank}", communicator.LocalRank.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
                  .Replace("{rank}", communicator.Rank.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
}
