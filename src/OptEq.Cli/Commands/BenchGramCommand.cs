using System.CommandLine;
using System.Text.Json;
using OptEq.Cli.Bench;
using OptEq.Kernels;

namespace OptEq.Cli.Commands;

/// <summary>
/// <c>opteq bench gram</c>: WᵀW for a circular stride-1 convolution, applied as two convolutions, as two convolutions over
/// cache-sized row blocks, and in the Fourier domain (plus the Fourier path's spectrum refresh and exact norm), each
/// beside PyTorch's conv2d + conv_transpose2d and rfft2 / einsum / irfft2 timed right after it in the same run.
/// </summary>
public static class BenchGramCommand
{
    /// <summary>The interior convolutions of the conv-opteq models (circular, 3×3, 14×14).</summary>
    public static readonly string[] Defaults = ["32x14x14->32:3x3/s1/p1c", "48x14x14->48:3x3/s1/p1c", "64x14x14->64:3x3/s1/p1c"];

    /// <summary>Which PyTorch method is the peer of each of ours.</summary>
    private static string? PeerMethod(string method) => method switch
    {
        "convs" or "blocked" => "convs",
        "fourier" => "fourier",
        "fourier-refresh" => "fourier-refresh",
        _ => null, // PyTorch has no batched Hermitian eigensolver path we would compare against here
    };

    public static Command Create()
    {
        var json = CommonOptions.Json();
        var device = CommonOptions.Device();
        device.Description = "Device to time (cpu, cuda[:i], opencl[:i], ilgpu-cpu); default: cpu. --peer-device says where PyTorch runs.";
        var shapes = new Option<string[]>("--shapes", "-s")
        {
            Description = $"Circular stride-1 convolutions C×H×W→C:k×k/s1/p(k−1)/2c (x and -> also accepted); default: {string.Join(" ", Defaults)}",
            AllowMultipleArgumentsPerToken = true,
        };
        var batch = new Option<int>("--batch", "-b") { Description = "Samples per application.", DefaultValueFactory = _ => 128 };
        var repetitions = new Option<int>("--repetitions", "-r") { Description = "Timed calls per method (the median is reported), after --warmup untimed ones.", DefaultValueFactory = _ => 15 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed calls per method before timing.", DefaultValueFactory = _ => 3 };
        var threads = new Option<int>("--threads", "-t")
        {
            Description = "PyTorch's threads (torch.set_num_threads). opteq's native backend uses one thread per core.",
            DefaultValueFactory = _ => Environment.ProcessorCount,
        };
        var cache = new Option<int>("--cache-kib") { Description = "Per-core cache the blocked method sizes its row blocks for (KiB; L2 here).", DefaultValueFactory = _ => 512 };
        var noPeer = new Option<bool>("--no-peer") { Description = "Do not start the PyTorch peer." };
        var peerDevice = CommonOptions.PeerDevice();
        var command = new Command("gram", "WᵀW of a circular convolution: two convolutions, cache-blocked, Fourier domain; beside PyTorch in the same run (median ms; ratio = PyTorch time / ours).")
        {
            json, device, shapes, batch, repetitions, warmup, threads, cache, noPeer, peerDevice,
        };
        command.SetAction(parse => CliErrors.Run(() => Run(parse.GetValue(json), parse.GetValue(device), parse.GetValue(shapes), parse.GetValue(batch),
            parse.GetValue(repetitions), parse.GetValue(warmup), parse.GetValue(threads), parse.GetValue(cache), parse.GetValue(noPeer), parse.GetValue(peerDevice)!)));
        return command;
    }

    private static int Run(bool json, string? deviceId, string[]? shapeArgs, int batch, int repetitions, int warmup, int threads, int cacheKib, bool noPeer, string peerDevice)
    {
        if (batch < 1) throw new ArgumentException($"--batch must be at least 1, got {batch}");
        if (repetitions < 1) throw new ArgumentException($"--repetitions must be at least 1, got {repetitions}");
        if (warmup < 0) throw new ArgumentException($"--warmup must be at least 0, got {warmup}");
        if (threads < 1) throw new ArgumentException($"--threads must be at least 1, got {threads}");
        if (cacheKib < 1) throw new ArgumentException($"--cache-kib must be at least 1, got {cacheKib}");
        var cases = (shapeArgs is { Length: > 0 } ? shapeArgs : Defaults)
            .SelectMany(s => s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Select(Parse).ToList();

        using var dev = DeviceCatalog.Open(deviceId ?? "cpu");
        var bench = new GramBench(dev, cacheKib * 1024L);
        using var peer = noPeer ? null : TorchConvPeer.Start(threads, CommonOptions.PeerDeviceFor(peerDevice, dev));
        string peerDescription = peer?.Description ?? "no PyTorch peer (--no-peer)";
        if (peer is { Available: false }) Console.Error.WriteLine($"opteq: note: {peerDescription}; timing opteq alone.");
        if (!json)
        {
            Console.WriteLine($"WᵀW of a circular stride-1 convolution, float32, batch {batch}: median of {repetitions} single calls (of those made in 5 s, if fewer; at least 3) after {warmup} untimed,");
            Console.WriteLine("each method checked against the float64 Fourier-domain reference first; PyTorch timed right after opteq, method by method, in this run.");
            Console.WriteLine($"opteq:   {dev} ({Environment.ProcessorCount} cores); blocked: row blocks for {cacheKib} KiB per core");
            Console.WriteLine($"peer:    {peerDescription}");
            if (peer is { Available: true })
                Console.WriteLine("         here: convs = conv2d then conv_transpose2d folded circularly; fourier = rfft2, einsum over frequencies, irfft2 (spectrum precomputed); fourier-refresh = that spectrum");
            Console.WriteLine();
            Console.WriteLine($"{"shape",-28} {"method",-16} {"opteq ms",9} {"GFLOP/s",8} {"torch",16} {"torch ms",9} {"ratio",6}");
        }
        foreach (var (name, g) in cases)
        {
            try { bench.Check(g); }
            catch (ConvCheckException e)
            {
                Console.Error.WriteLine($"opteq: error: WᵀW CHECK FAILED, no timings: {e.Message}");
                return 1;
            }
            foreach (var method in GramBench.Methods)
            {
                double ms = bench.Measure(g, method, batch, repetitions, warmup);
                string? peerMethod = PeerMethod(method);
                double? torchMs = peerMethod is null ? null : peer?.MeasureGram(g, peerMethod, batch, repetitions, warmup);
                double? ratio = torchMs / ms;
                double work = GramBench.WorkPerSample(g, method);
                double? gflops = work > 0 ? 2 * work * batch / (ms * 1e6) : null;
                string label = method == "blocked" ? $"blocked/{bench.RowsPerBlock(g)}" : method;
                if (json)
                    Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
                    {
                        ["bench"] = "gram", ["shape"] = name, ["method"] = method, ["batch"] = batch, ["device"] = dev.Id,
                        ["rows_per_block"] = method == "blocked" ? bench.RowsPerBlock(g) : null,
                        ["ms"] = Math.Round(ms, 4), ["torch_method"] = peerMethod, ["torch_ms"] = torchMs is { } t ? Math.Round(t, 4) : null,
                        ["ratio"] = ratio is { } r ? Math.Round(r, 3) : null, ["stat"] = "median",
                    }));
                else
                    Console.WriteLine($"{name,-28} {label,-16} {ms,9:F3} {(gflops is { } f ? f.ToString("F1") : "-"),8} {peerMethod ?? "-",16} " +
                        $"{(torchMs is { } tm ? tm.ToString("F3") : "-"),9} {(ratio is { } q ? q.ToString("F2") : "-"),6}");
            }
        }
        if (peer is { Available: false } && peer.Description != peerDescription) Console.Error.WriteLine($"opteq: note: {peer.Description}");
        return 0;
    }

    private static (string Name, Conv2dGeometry G) Parse(string text)
    {
        var shape = ConvCase.Parse(text);
        if (shape.Conv is not { } g) throw new ArgumentException($"shape '{text}': bench gram takes convolutions, not poolings");
        if (g.InChannels != g.OutChannels) throw new ArgumentException($"shape '{text}': bench gram takes square convolutions (C → C channels), as the models' W");
        try { CircularConvSpectrumExtensions.CheckCirculant("shape '" + text + "'", g); }
        catch (ShapeException e) { throw new ArgumentException(e.Message); }
        return (shape.Name, g);
    }
}
