using System.CommandLine;
using System.Text.Json;
using OptEq.Cli.Bench;
using OptEq.Kernels;
using OptEq.Kernels.Peers;

namespace OptEq.Cli.Commands;

/// <summary>
/// <c>opteq bench gemm</c>: native CPU sgemm GFLOP/s beside OpenBLAS cblas_sgemm, measured in the same run on the same
/// operands, after checking both products. With --device, an ILGPU device (beside cuBLAS on CUDA) as well.
/// </summary>
public static class BenchGemmCommand
{
    public static Command Create()
    {
        var json = CommonOptions.Json();
        var device = CommonOptions.Device();
        device.Description = "Also time this ILGPU device (cuda[:i], opencl[:i], ilgpu-cpu), beside cuBLAS on CUDA; the native CPU is always timed.";
        var sizes = new Option<string[]>("--sizes", "-s")
        {
            Description = $"Shapes: N (N×N×N) or MxNxK (C is m×n, the inner dimension k); default: {string.Join(" ", GemmCase.DefaultSizes)}",
            AllowMultipleArgumentsPerToken = true,
        };
        var ops = new Option<string>("--ops")
        {
            Description = "Operand transposes, op(A) then op(B): a list of NN, TN, NT, TT, or 'all'.",
            DefaultValueFactory = _ => "NN",
        };
        var seconds = new Option<double>("--seconds")
        {
            Description = "Timed seconds per case and backend (after a warm-up).",
            DefaultValueFactory = _ => 1.0,
        };
        var command = new Command("gemm", "Native sgemm GFLOP/s beside OpenBLAS (median of single-call times), after checking both products.")
        {
            json, device, sizes, ops, seconds,
        };
        command.SetAction(parse => CliErrors.Run(() =>
            Run(parse.GetValue(json), parse.GetValue(device), parse.GetValue(sizes), parse.GetValue(ops)!, parse.GetValue(seconds))));
        return command;
    }

    private static int Run(bool json, string? deviceId, string[]? sizeArgs, string opsArg, double seconds)
    {
        if (!(seconds > 0)) throw new ArgumentException($"--seconds must be positive, got {seconds}");
        var shapes = (sizeArgs is { Length: > 0 } ? sizeArgs : GemmCase.DefaultSizes)
            .SelectMany(s => s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Select(GemmCase.ParseSize).ToList();
        var cases = shapes.SelectMany(s => GemmCase.ParseOps(opsArg).Select(o => new GemmCase(s.M, s.N, s.K, o.TransA, o.TransB))).ToList();

        using var extra = deviceId is null || deviceId.Trim().Equals("cpu", StringComparison.OrdinalIgnoreCase) ? null : DeviceCatalog.Open(deviceId);
        using var bench = new GemmBench(extra);
        if (!bench.OpenBlasAvailable)
            Console.Error.WriteLine($"opteq: note: {bench.OpenBlasAbsentReason}; timing the native GEMM without a peer.");
        if (!json) PrintHeader(bench, extra, seconds);

        bool reportedSkip = false;
        foreach (var c in cases)
        {
            IReadOnlyList<GemmResult> results;
            try { results = bench.Run(c, seconds); }
            catch (GemmCheckException e)
            {
                Console.Error.WriteLine($"opteq: error: GEMM CHECK FAILED, no timings: {e.Message}");
                return 1;
            }
            foreach (var r in results)
                Console.WriteLine(json ? Json(r) : Row(r));
            if (bench.DeviceSkipped is { } skipped && !reportedSkip)
            {
                Console.Error.WriteLine($"opteq: note: not timing {skipped}");
                reportedSkip = true;
            }
        }
        return 0;
    }

    private static void PrintHeader(GemmBench bench, Device? extra, double seconds)
    {
        Console.WriteLine("GEMM float32, C ← op(A)·op(B) row-major (α = 1, β = 0). GFLOP/s = 2·m·n·k / median time of one call,");
        Console.WriteLine($"each backend warmed up, then timed {seconds:0.##} s per case in slices alternating with its peer. Products checked first.");
        var cpu = bench.Cpu.Info;
        Console.WriteLine($"cpu:      {cpu.Name}, {string.Join(", ", cpu.Properties.Where(p => p.Key is "cores" or "simd" or "sgemm").Select(p => $"{p.Key} {p.Value}"))}");
        if (bench.OpenBlasAvailable)
        {
            string coreType = OpenBlas.CoreTypeFromEnvironment is { } preset
                ? $"{OpenBlas.CoreTypeVariable}={preset} from the environment (kept)"
                : OpenBlas.DefaultCoreType is { } chosen ? $"{OpenBlas.CoreTypeVariable}={chosen} set by opteq" : "its own pick";
            Console.WriteLine($"openblas: {OpenBlas.LibraryPath}, core {OpenBlas.CoreName ?? "?"} ({coreType}), {OpenBlas.Threads} threads");
            if (OpenBlas.CoreTypeFromEnvironment is not null && OpenBlas.DefaultCoreType is not null && OpenBlas.CoreName != OpenBlas.DefaultCoreType)
                Console.WriteLine($"          note: its {OpenBlas.CoreName} kernels are not its fastest here; unset {OpenBlas.CoreTypeVariable} for {OpenBlas.DefaultCoreType}.");
        }
        if (extra is not null) Console.WriteLine($"device:   {extra}");
        Console.WriteLine();
        Console.WriteLine($"{"m",6} {"n",6} {"k",6}  op  {"backend",-9} {"GFLOP/s",9}  {"peer",-9} {"GFLOP/s",9}  {"ratio",6}");
    }

    private static string Row(GemmResult r) =>
        $"{r.Case.M,6} {r.Case.N,6} {r.Case.K,6}  {r.Case.Ops}  {r.Backend,-9} {r.Gflops,9:F1}  {r.Peer ?? "-",-9} " +
        $"{(r.PeerGflops is { } p ? p.ToString("F1") : "-"),9}  {(r.Ratio is { } q ? q.ToString("F2") : "-"),6}";

    private static string Json(GemmResult r) => JsonSerializer.Serialize(new Dictionary<string, object?>
    {
        ["bench"] = "gemm",
        ["m"] = r.Case.M,
        ["n"] = r.Case.N,
        ["k"] = r.Case.K,
        ["backend"] = r.Backend,
        ["gflops"] = Math.Round(r.Gflops, 2),
        ["peer"] = r.Peer,
        ["peer_gflops"] = r.PeerGflops is { } p ? Math.Round(p, 2) : null,
        ["ratio"] = r.Ratio is { } q ? Math.Round(q, 3) : null,
        ["ops"] = r.Case.Ops,
        ["stat"] = "median",
    });
}
