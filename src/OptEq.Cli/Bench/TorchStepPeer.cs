using System.Diagnostics;
using System.Text.Json;
using OptEq.Kernels.Peers;

namespace OptEq.Cli.Bench;

/// <summary>
/// The PyTorch peer of <c>opteq bench step</c>: runs <c>peers/torch_deq_step.py</c> or <c>peers/torch_conv_step.py</c>
/// (copied beside the executable from bench/peers) with the first Python that has PyTorch (<see cref="TorchConvPeer.Pythons"/>),
/// and reads its JSON line.
/// OpenBLAS (PyTorch's BLAS there) gets the same OPENBLAS_CORETYPE policy as the GEMM peer: the environment's value, or OpenBlas.DefaultCoreType.
/// </summary>
public static class TorchStepPeer
{
    /// <summary>The script's path beside the executable.</summary>
    public static string ScriptPath => Path.Combine(AppContext.BaseDirectory, "peers", "torch_deq_step.py");

    /// <summary>The convolutional step's script beside the executable.</summary>
    public static string ConvScriptPath => Path.Combine(AppContext.BaseDirectory, "peers", "torch_conv_step.py");

    /// <summary>ms per step, or why there is none (Python or PyTorch missing, the script failed).</summary>
    public static (double? MsPerStep, string Description) Measure(int steps, int threads)
    {
        var (root, why, coreType) = Run(ScriptPath, ["--steps", steps.ToString(), "--threads", threads.ToString()]);
        if (root is not JsonElement r) return (null, why);
        return (r.GetProperty("ms_per_step").GetDouble(), $"PyTorch {r.GetProperty("torch").GetString()} on {r.GetProperty("threads").GetInt32()} threads, " +
            $"TorchDEQ's Anderson solver and implicit backward (bench/peers/torch_deq_step.py), OPENBLAS_CORETYPE={coreType ?? "(OpenBLAS's own pick)"}, mean of {steps} steps");
    }

    /// <summary>
    /// The median ms per step of the same convolutional step in PyTorch (bench/peers/torch_conv_step.py) on
    /// <paramref name="device"/> ("cpu", or "cuda": PyTorch's first GPU), or why there is none.
    /// </summary>
    public static (double? MsPerStep, string Description) MeasureConv(ConvStepShape shape, int steps, int threads, string device = "cpu")
    {
        var (root, why, _) = Run(ConvScriptPath, [.. shape.PeerArguments(), "--steps", steps.ToString(), "--threads", threads.ToString(), "--device", device]);
        if (root is not JsonElement r) return (null, why);
        string where = r.TryGetProperty("gpu", out var gpu) && gpu.ValueKind == JsonValueKind.String
            ? $"on {gpu.GetString()}" : $"on {r.GetProperty("threads").GetInt32()} threads";
        return (r.GetProperty("ms_per_step").GetDouble(), $"PyTorch {r.GetProperty("torch").GetString()} {where}, " +
            $"the same step with F.conv2d (bench/peers/torch_conv_step.py), median of {steps} steps");
    }

    /// <summary>
    /// Runs a peer script with the first Python of <see cref="TorchConvPeer.Pythons"/> that has PyTorch (and sees a GPU when
    /// the script is asked for one: exit code 5 otherwise) and returns its last output line as JSON, or why not.
    /// </summary>
    private static (JsonElement? Root, string Why, string? CoreType) Run(string script, IEnumerable<string> arguments)
    {
        if (!File.Exists(script)) return (null, $"the peer script is missing ({script})", null);
        var reasons = new List<string>();
        string? coreType = Environment.GetEnvironmentVariable(OpenBlas.CoreTypeVariable) ?? OpenBlas.DefaultCoreType;
        foreach (var python in TorchConvPeer.Pythons().Distinct())
        {
            var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.ArgumentList.Add(script);
            foreach (var argument in arguments) start.ArgumentList.Add(argument);
            if (coreType is not null) start.Environment[OpenBlas.CoreTypeVariable] = coreType;
            try
            {
                using var process = Process.Start(start) ?? throw new InvalidOperationException("no process");
                var stdout = process.StandardOutput.ReadToEndAsync();
                var stderr = process.StandardError.ReadToEndAsync();
                if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
                {
                    process.Kill(entireProcessTree: true);
                    return (null, "the PyTorch peer took longer than 5 minutes and was stopped", coreType);
                }
                if (TorchConvPeer.WrongPython(python, process.ExitCode) is { } wrong) { reasons.Add(wrong); continue; }
                if (process.ExitCode != 0) return (null, $"the PyTorch peer failed (exit {process.ExitCode}): {stderr.Result.Trim().Split('\n').LastOrDefault()}", coreType);
                var line = stdout.Result.Trim().Split('\n').Last();
                using var doc = JsonDocument.Parse(line);
                var root = doc.RootElement.Clone();
                _ = root.GetProperty("ms_per_step").GetDouble();
                return (root, "", coreType);
            }
            catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or JsonException or KeyNotFoundException)
            {
                reasons.Add($"{python}: the PyTorch peer could not run: {e.Message}");
            }
        }
        return (null, string.Join("; ", reasons), coreType);
    }
}
