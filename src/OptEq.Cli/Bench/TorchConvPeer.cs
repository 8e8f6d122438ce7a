using System.Diagnostics;
using System.Text.Json;
using OptEq.Kernels;
using OptEq.Kernels.Peers;

namespace OptEq.Cli.Bench;

/// <summary>
/// The PyTorch peer of <c>opteq bench conv</c>: <c>peers/torch_conv.py</c> (copied beside the executable from bench/peers)
/// run once with the system Python as a server, so that each shape's PyTorch timing is taken right after ours, in the same
/// run. OpenBLAS gets the same OPENBLAS_CORETYPE policy as the other peers (PyTorch's convolutions run on oneDNN).
/// </summary>
public sealed class TorchConvPeer : IDisposable
{
    private readonly Process? _process;

    private TorchConvPeer(Process? process, string description)
    {
        _process = process;
        Description = description;
    }

    /// <summary>What the peer is, or why there is none.</summary>
    public string Description { get; private set; }

    public bool Available => _process is not null;

    public static string ScriptPath => Path.Combine(AppContext.BaseDirectory, "peers", "torch_conv.py");

    /// <summary>
    /// The Pythons tried, in order: $OPTEQ_PYTHON when set, else Debian's /usr/bin/python3 (the CPU peer this project is
    /// measured against) and then the first python3 on the PATH (a GPU machine's PyTorch often lives in a virtual environment).
    /// </summary>
    public static IEnumerable<string> Pythons()
    {
        string? chosen = Environment.GetEnvironmentVariable("OPTEQ_PYTHON");
        if (!string.IsNullOrWhiteSpace(chosen)) { yield return chosen; yield break; }
        if (File.Exists("/usr/bin/python3")) yield return "/usr/bin/python3";
        yield return "python3";
    }

    /// <summary>
    /// Starts the peer on <paramref name="device"/> ("cpu", or "cuda": PyTorch's first CUDA GPU) with the first Python of
    /// <see cref="Pythons"/> that has PyTorch (and, for "cuda", sees a GPU); when none does, or the script is missing, a
    /// peer that is not <see cref="Available"/> says why.
    /// </summary>
    public static TorchConvPeer Start(int threads, string device = "cpu")
    {
        if (!File.Exists(ScriptPath)) return new TorchConvPeer(null, $"no PyTorch peer: the script is missing ({ScriptPath})");
        var reasons = new List<string>();
        foreach (var python in Pythons().Distinct())
        {
            var peer = TryStart(python, threads, device, out string reason);
            if (peer is not null) return peer;
            reasons.Add(reason);
        }
        return new TorchConvPeer(null, "no PyTorch peer: " + string.Join("; ", reasons));
    }

    /// <summary>
    /// Why a peer script's exit code says to try the next Python (3: no PyTorch, 5: its PyTorch sees no CUDA GPU, as the
    /// scripts in bench/peers exit), or null when the code means something else.
    /// </summary>
    internal static string? WrongPython(string python, int exitCode) => exitCode switch
    {
        3 => $"PyTorch is not installed for {python} (Debian: apt-get install python3-torch)",
        5 => $"{python}'s PyTorch sees no CUDA GPU",
        _ => null,
    };

    private static TorchConvPeer? TryStart(string python, int threads, string device, out string reason)
    {
        reason = "";
        var start = new ProcessStartInfo(python)
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var argument in new[] { ScriptPath, "--threads", threads.ToString(), "--device", device }) start.ArgumentList.Add(argument);
        string? coreType = Environment.GetEnvironmentVariable(OpenBlas.CoreTypeVariable) ?? OpenBlas.DefaultCoreType;
        if (coreType is not null) start.Environment[OpenBlas.CoreTypeVariable] = coreType;
        Process? process = null;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("no process");
            var stderr = process.StandardError.ReadToEndAsync();
            string? hello = ReadLine(process, TimeSpan.FromMinutes(1));
            if (hello is null)
            {
                process.WaitForExit(5000);
                reason = !process.HasExited ? $"{python}: no answer within a minute"
                    : WrongPython(python, process.ExitCode) ?? $"{python}: the PyTorch peer did not start: {stderr.Result.Trim().Split('\n').LastOrDefault()}";
                Stop(process);
                return null;
            }
            using var doc = JsonDocument.Parse(hello);
            var root = doc.RootElement;
            string where = root.TryGetProperty("gpu", out var gpu)
                ? $"on {gpu.GetString()} (cuDNN {root.GetProperty("cudnn")})"
                : $"on {root.GetProperty("threads").GetInt32()} threads (oneDNN {(root.GetProperty("mkldnn").GetBoolean() ? "on" : "off")})";
            return new TorchConvPeer(process,
                $"PyTorch {root.GetProperty("torch").GetString()} {where}, " +
                "torch.nn.functional.conv2d / avg_pool2d and torch.autograd.grad (bench/peers/torch_conv.py)");
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or JsonException or KeyNotFoundException or IOException)
        {
            if (process is not null) Stop(process);
            reason = $"{python}: it could not run ({e.Message})";
            return null;
        }
    }

    /// <summary>
    /// PyTorch's milliseconds for each timed call of one pass of one shape (after <paramref name="warmup"/> untimed ones), or
    /// null when the peer is unavailable or failed (then it stays unavailable).
    /// </summary>
    public double[]? Time(ConvCase shape, string pass, int batch, int repetitions, int warmup)
    {
        var request = new Dictionary<string, object> { ["pass"] = pass, ["batch"] = batch, ["reps"] = repetitions, ["warmup"] = warmup };
        if (shape.Conv is { } g)
        {
            request["kind"] = "conv";
            request["cin"] = g.InChannels; request["h"] = g.Height; request["w"] = g.Width; request["cout"] = g.OutChannels;
            request["kh"] = g.KernelHeight; request["kw"] = g.KernelWidth; request["stride"] = g.Stride; request["padding"] = g.Padding;
            request["circular"] = g.PaddingMode == Kernels.ConvPadding.Circular;
        }
        else
        {
            var p = shape.Pool!.Value;
            request["kind"] = "pool";
            request["c"] = p.Channels; request["h"] = p.Height; request["w"] = p.Width; request["k"] = p.Kernel; request["stride"] = p.Stride;
        }
        return Ask(request, $"{shape.Name} {pass}");
    }

    /// <summary>
    /// PyTorch's median ms for WᵀW of a circular stride-1 convolution (c → c channels) by <paramref name="method"/>
    /// ("convs", "fourier" or "fourier-refresh", see torch_conv.py), or null when the peer is unavailable or failed.
    /// </summary>
    public double? MeasureGram(Conv2dGeometry g, string method, int batch, int repetitions, int warmup)
        => Ask(new Dictionary<string, object>
        {
            ["kind"] = "gram", ["method"] = method, ["batch"] = batch, ["reps"] = repetitions, ["warmup"] = warmup,
            ["c"] = g.InChannels, ["h"] = g.Height, ["w"] = g.Width, ["k"] = g.KernelHeight,
        }, $"gram {g} {method}") is { } times ? CallTiming.Median(times) : null;

    /// <summary>Sends one request; the answer's "times" (ms of each timed call), or null when the peer is unavailable or failed.</summary>
    private double[]? Ask(Dictionary<string, object> request, string what)
    {
        if (_process is null || _process.HasExited) return null;
        try
        {
            _process.StandardInput.WriteLine(JsonSerializer.Serialize(request));
            _process.StandardInput.Flush();
            string? answer = ReadLine(_process, TimeSpan.FromMinutes(5));
            if (answer is null) throw new IOException(_process.HasExited ? $"the peer exited with code {_process.ExitCode}" : "no answer within 5 minutes");
            using var doc = JsonDocument.Parse(answer);
            double[] times = [.. doc.RootElement.GetProperty("times").EnumerateArray().Select(t => t.GetDouble())];
            if (times.Length == 0) throw new InvalidOperationException("the answer has no times");
            return times;
        }
        catch (Exception e) when (e is IOException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            Description = $"the PyTorch peer failed at {what} ({e.Message}); no further peer timings";
            Stop(_process);
            return null;
        }
    }

    private static string? ReadLine(Process process, TimeSpan timeout)
    {
        var line = process.StandardOutput.ReadLineAsync();
        return line.Wait(timeout) ? line.Result : null;
    }

    private static void Stop(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.StandardInput.Close();
                if (!process.WaitForExit(2000)) process.Kill(entireProcessTree: true);
            }
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or System.ComponentModel.Win32Exception) { }
    }

    public void Dispose()
    {
        if (_process is not null)
        {
            Stop(_process);
            _process.Dispose();
        }
    }
}
