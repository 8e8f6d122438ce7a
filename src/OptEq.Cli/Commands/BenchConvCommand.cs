using System.CommandLine;
using System.Text.Json;
using OptEq.Cli.Bench;
using OptEq.Kernels;

namespace OptEq.Cli.Commands;

/// <summary>
/// <c>opteq bench conv</c>: the convolution passes (forward, backward input, backward weight) and average pooling on the
/// native CPU (or --device), each beside PyTorch's conv2d / avg_pool2d and autograd backwards timed in alternating rounds in
/// the same run; medians of single calls, float32, after checking every pass against the float64 reference.
/// </summary>
public static class BenchConvCommand
{
    public static Command Create()
    {
        var json = CommonOptions.Json();
        var device = CommonOptions.Device();
        device.Description = "Device to time (cpu, cuda[:i], opencl[:i], ilgpu-cpu); default: cpu. --peer-device says where PyTorch runs.";
        var shapes = new Option<string[]>("--shapes", "-s")
        {
            Description = "Shapes: convolutions Cin×H×W→Cout:KH×KW/sS/pP[c] (c: circular; x and -> also accepted) or poolings pool:C×H×W/kK/sS; " +
                $"default: the models' shapes, {string.Join(" ", ConvCase.Defaults)}",
            AllowMultipleArgumentsPerToken = true,
        };
        var batch = new Option<int>("--batch", "-b") { Description = "Samples per call.", DefaultValueFactory = _ => 128 };
        var repetitions = new Option<int>("--repetitions", "-r") { Description = "Timed calls per pass on each side, split over --rounds (the median of them all is reported).", DefaultValueFactory = _ => 30 };
        var rounds = new Option<int>("--rounds")
        {
            Description = "Rounds per pass (at most --repetitions): opteq's calls, then PyTorch's, then opteq's again, and so on, so that both sides meet the same moments of a noisy machine.",
            DefaultValueFactory = _ => 3,
        };
        var warmup = new Option<int>("--warmup") { Description = "Untimed calls before each round's timed calls.", DefaultValueFactory = _ => 3 };
        var threads = new Option<int>("--threads", "-t")
        {
            Description = "PyTorch's threads (torch.set_num_threads). opteq's native backend uses one thread per core (set DOTNET_PROCESSOR_COUNT to change that).",
            DefaultValueFactory = _ => Environment.ProcessorCount,
        };
        var noPeer = new Option<bool>("--no-peer") { Description = "Do not start the PyTorch peer." };
        var peerDevice = CommonOptions.PeerDevice();
        var algorithm = new Option<string>("--algorithm")
        {
            Description = "Native convolution algorithm: auto (Winograd F(2x2,3x3) for 3x3 stride-1 float32, the direct kernels for other stride-1 and for stride-2 float32, else im2col + GEMM), " +
                "direct (as auto without Winograd), im2col (always the column matrix and the packed GEMM), both (each pass timed with auto, then im2col, then PyTorch) or all (auto, direct, im2col, then PyTorch).",
            DefaultValueFactory = _ => "auto",
        };
        algorithm.AcceptOnlyFromAmong("auto", "direct", "im2col", "both", "all");
        var command = new Command("conv", "Convolution and pooling passes beside PyTorch's, timed in the same run (median ms; ratio = PyTorch time / ours).")
        {
            json, device, shapes, batch, repetitions, rounds, warmup, threads, noPeer, peerDevice, algorithm,
        };
        command.SetAction(parse => CliErrors.Run(() => Run(parse.GetValue(json), parse.GetValue(device), parse.GetValue(shapes), parse.GetValue(batch),
            new Timing(parse.GetValue(repetitions), parse.GetValue(rounds), parse.GetValue(warmup)), parse.GetValue(threads), parse.GetValue(noPeer), parse.GetValue(peerDevice)!, parse.GetValue(algorithm)!)));
        return command;
    }

    private static int Run(bool json, string? deviceId, string[]? shapeArgs, int batch, Timing timing, int threads, bool noPeer, string peerDevice, string algorithm)
    {
        string[] algorithms = algorithm switch { "both" => ["auto", "im2col"], "all" => ["auto", "direct", "im2col"], _ => [algorithm] };
        var previous = Kernels.Native.NativeConvolution.Algorithm;
        try { return Run(json, deviceId, shapeArgs, batch, timing, threads, noPeer, peerDevice, algorithms); }
        finally { Kernels.Native.NativeConvolution.Algorithm = previous; }
    }

    private static int Run(bool json, string? deviceId, string[]? shapeArgs, int batch, Timing timing, int threads, bool noPeer, string peerDevice, string[] algorithms)
    {
        if (batch < 1) throw new ArgumentException($"--batch must be at least 1, got {batch}");
        if (timing.Rounds < 1) throw new ArgumentException($"--rounds must be at least 1, got {timing.Rounds}");
        if (timing.Repetitions < 1) throw new ArgumentException($"--repetitions must be at least 1, got {timing.Repetitions}");
        timing = timing with { Rounds = Math.Min(timing.Rounds, timing.Repetitions) };
        if (timing.Warmup < 0) throw new ArgumentException($"--warmup must be at least 0, got {timing.Warmup}");
        if (threads < 1) throw new ArgumentException($"--threads must be at least 1, got {threads}");
        var cases = (shapeArgs is { Length: > 0 } ? shapeArgs : ConvCase.Defaults)
            .SelectMany(s => s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Select(ConvCase.Parse).ToList();

        using var dev = DeviceCatalog.Open(deviceId ?? "cpu");
        var bench = new ConvBench(dev);
        string peerOn = CommonOptions.PeerDeviceFor(peerDevice, dev);
        using var peer = noPeer ? null : TorchConvPeer.Start(threads, peerOn);
        string peerDescription = peer?.Description ?? "no PyTorch peer (--no-peer)";
        if (peer is { Available: false }) Console.Error.WriteLine($"opteq: note: {peerDescription}; timing opteq alone.");
        if (!json)
        {
            Console.WriteLine($"Convolution and average pooling, float32, batch {batch}: median of {timing.Repetitions} single calls per side (fewer if they take over 5 s; at least 3),");
            Console.WriteLine($"timed in {timing.Rounds} rounds alternating opteq and PyTorch, each after {timing.Warmup} untimed calls; each shape warmed up first (every pass at least");
            Console.WriteLine("40 times and 0.25 s, so that the code is compiled optimised) and each pass checked against the float64 reference first.");
            Console.WriteLine($"opteq:   {dev} ({Environment.ProcessorCount} cores), native convolution {string.Join(", then ", algorithms.Select(Describe))}");
            Console.WriteLine($"peer:    {peerDescription}");
            Console.WriteLine();
            Console.WriteLine($"{"shape",-28} {"pass",-16} {"algorithm",-9} {"opteq ms",9} {"GFLOP/s",8} {"torch ms",9} {"ratio",6}");
        }
        bench.WarmUp(cases[0], batch, seconds: 1);
        foreach (var shape in cases)
        {
            try
            {
                foreach (var algorithm in algorithms)
                {
                    Kernels.Native.NativeConvolution.Algorithm = Algorithm(algorithm);
                    bench.Check(shape);
                }
            }
            catch (ConvCheckException e)
            {
                Console.Error.WriteLine($"opteq: error: CONVOLUTION CHECK FAILED, no timings: {e.Message}");
                return 1;
            }
            foreach (var algorithm in algorithms)
            {
                Kernels.Native.NativeConvolution.Algorithm = Algorithm(algorithm);
                bench.WarmUp(shape, batch, seconds: 0.25);
            }
            foreach (var pass in shape.Passes)
            {
                var (ours, torchMs) = TimePass(bench, peer, shape, pass, batch, timing, algorithms);
                foreach (var (algorithm, ms) in ours)
                {
                    double? ratio = torchMs / ms;
                    double? gflops = shape.IsPool ? null : 2 * shape.WorkPerSample * batch / (ms * 1e6);
                    if (json)
                        Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
                        {
                            ["bench"] = "conv", ["shape"] = shape.Name, ["pass"] = pass, ["batch"] = batch, ["device"] = dev.Id, ["algorithm"] = algorithm,
                            ["ms"] = Math.Round(ms, 4), ["torch_ms"] = torchMs is { } t ? Math.Round(t, 4) : null, ["peer_device"] = torchMs is null ? null : peerOn,
                            ["ratio"] = ratio is { } r ? Math.Round(r, 3) : null, ["stat"] = "median", ["rounds"] = timing.Rounds,
                        }));
                    else
                        Console.WriteLine($"{shape.Name,-28} {pass,-16} {algorithm,-9} {ms,9:F3} {(gflops is { } f ? f.ToString("F1") : "-"),8} " +
                            $"{(torchMs is { } tm ? tm.ToString("F3") : "-"),9} {(ratio is { } q ? q.ToString("F2") : "-"),6}");
                }
            }
        }
        if (peer is { Available: false } && peer.Description != peerDescription) Console.Error.WriteLine($"opteq: note: {peer.Description}");
        return 0;
    }

    /// <summary>Timed calls per pass and side, the rounds they are split into, and the untimed calls before each round.</summary>
    private readonly record struct Timing(int Repetitions, int Rounds, int Warmup);

    /// <summary>
    /// One pass timed in rounds: each algorithm of ours, then PyTorch, then again, Repetitions/Rounds calls a side each round
    /// (the remainder in the first rounds); the medians of every call of each side. A machine shared with others changes
    /// speed from one second to the next, and a single block of calls per side let those swings decide a ratio.
    /// </summary>
    private static (List<(string Algorithm, double Ms)> Ours, double? TorchMs) TimePass(ConvBench bench, TorchConvPeer? peer, ConvCase shape, string pass,
        int batch, Timing timing, string[] algorithms)
    {
        var ours = algorithms.Select(_ => new List<double>()).ToArray();
        List<double>? theirs = peer is { Available: true } ? [] : null;
        for (int round = 0; round < timing.Rounds; round++)
        {
            int calls = timing.Repetitions / timing.Rounds + (round < timing.Repetitions % timing.Rounds ? 1 : 0);
            for (int a = 0; a < algorithms.Length; a++)
            {
                Kernels.Native.NativeConvolution.Algorithm = Algorithm(algorithms[a]);
                ours[a].AddRange(bench.Time(shape, pass, batch, calls, timing.Warmup, maxSeconds: 5.0 / timing.Rounds));
            }
            if (theirs is not null)
            {
                if (peer!.Time(shape, pass, batch, calls, timing.Warmup) is { } times) theirs.AddRange(times);
                else theirs = null;
            }
        }
        return ([.. algorithms.Select((a, i) => (a, CallTiming.Median(ours[i])))], theirs is null ? null : CallTiming.Median(theirs));
    }

    private static Kernels.Native.NativeConvAlgorithm Algorithm(string name) => name switch
    {
        "direct" => Kernels.Native.NativeConvAlgorithm.Direct,
        "im2col" => Kernels.Native.NativeConvAlgorithm.Im2Col,
        _ => Kernels.Native.NativeConvAlgorithm.Auto,
    };

    private static string Describe(string name) => name switch
    {
        "direct" => "direct (the direct kernels at stride 1 and 2 in float32 with AVX2+FMA, else im2col + packed GEMM)",
        "im2col" => "im2col (column matrix + packed GEMM only)",
        _ => "auto (Winograd F(2x2,3x3) for 3x3 stride 1, the direct kernels for other stride 1 and for stride 2, in float32 with AVX2+FMA; else im2col + packed GEMM)",
    };
}
