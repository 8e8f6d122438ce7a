using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using OptEq.Autodiff.Distributed;
using OptEq.Cli.Reporting;
using OptEq.Cli.Training;

namespace OptEq.Cli.Commands;

/// <summary>
/// <c>mpirun -np N opteq bench allreduce</c>: the time of one float32 sum-allreduce (as training averages gradients)
/// for several sizes, and the latency α and per-byte cost β of the line t(n) = α + β·bytes through the smallest and
/// largest size: the inputs of the scaling projection in docs/distributed.md.
/// </summary>
public static class BenchAllreduceCommand
{
    public static Command Create()
    {
        var floats = CommonOptions.IntList("--floats", "Message sizes in float32 values (84560: the default model's gradients).", [1, 1024, 84_560, 1_000_000]);
        var repeats = new Option<int>("--repeats") { Description = "Timed allreduces per size (the median is reported).", DefaultValueFactory = _ => 50 };
        var command = new Command("allreduce", "Time MPI allreduce of float32 gradients between the ranks of an mpirun (a single process reduces nothing).") { floats, repeats };
        command.SetAction(parse => DataParallelRun.Run(communicator => Run(communicator, parse.GetValue(floats)!, parse.GetValue(repeats))));
        return command;
    }

    private static int Run(ITrainingCommunicator communicator, int[] sizes, int repeats)
    {
        if (repeats < 1) throw new ArgumentException($"--repeats {repeats}: must be ≥ 1");
        if (sizes.Length == 0 || sizes.Any(n => n < 1)) throw new ArgumentException("--floats: sizes must be ≥ 1");
        Console.WriteLine($"allreduce (sum, float32) over {communicator.Ranks} rank(s): {communicator.Description}");
        var rows = new List<IReadOnlyList<string>>();
        var medians = new List<(int Floats, double Seconds)>();
        foreach (int n in sizes)
        {
            var buffer = new float[n];
            var times = new double[repeats];
            for (int warm = 0; warm < 3; warm++) communicator.AllReduceSum(buffer);
            for (int r = 0; r < repeats; r++)
            {
                communicator.Barrier(); // every rank starts together: the time is the collective's, not a late rank's
                long start = Stopwatch.GetTimestamp();
                communicator.AllReduceSum(buffer);
                times[r] = Stopwatch.GetElapsedTime(start).TotalSeconds;
            }
            // The slowest rank's time for each repeat, then the median over repeats.
            var slowest = Array.ConvertAll(times, t => t);
            communicator.AllReduceMax(slowest);
            Array.Sort(slowest);
            double median = slowest[repeats / 2];
            medians.Add((n, median));
            double bytes = 4.0 * n;
            // Bus bandwidth: the bytes each rank sends in a ring allreduce, 2(p−1)/p·size, per second.
            double bus = communicator.Ranks > 1 ? 2.0 * (communicator.Ranks - 1) / communicator.Ranks * bytes / median : 0;
            rows.Add([n.ToString("N0", CultureInfo.InvariantCulture), F($"{bytes / 1e6:F3}"), F($"{median * 1e6:F1}"), F($"{bus / 1e9:F2}")]);
        }
        SummaryTable.Print("", ["floats", "MB", "median µs", "bus GB/s"], rows);
        if (medians.Count >= 2)
        {
            var (small, large) = (medians.MinBy(m => m.Floats), medians.MaxBy(m => m.Floats));
            double beta = (large.Seconds - small.Seconds) / (4.0 * (large.Floats - small.Floats));
            double alpha = small.Seconds - beta * 4.0 * small.Floats;
            Console.WriteLine(F($"t(bytes) ≈ α + β·bytes with α = {alpha * 1e6:F1} µs, β = {beta * 1e9:F3} ns/byte ({(beta > 0 ? 1 / beta / 1e9 : double.PositiveInfinity):F2} GB/s)"));
        }
        return 0;
    }

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
