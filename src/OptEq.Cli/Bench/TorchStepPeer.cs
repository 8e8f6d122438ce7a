using System.Diagnostics;
using System.Text.Json;
using OptEq.Kernels.Peers;

namespace OptEq.Cli.Bench;

/// <summary>
/// The PyTorch peer of <c>opteq bench step</c>: runs <c>peers/torch_deq_step.py</c> (copied beside the executable from
/// bench/peers) with the system Python, which has PyTorch where Debian's python3-torch is installed, and reads its JSON line.
/// OpenBLAS (PyTorch's BLAS there) gets the same OPENBLAS_CORETYPE policy as the GEMM peer: the environment's value, or OpenBlas.DefaultCoreType.
/// </summary>
public static class TorchStepPeer
{
    /// <summary>The script's path beside the executable.</summary>
    public static string ScriptPath => Path.Combine(AppContext.BaseDirectory, "peers", "torch_deq_step.py");

    /// <summary>ms per step, or why there is none (Python or PyTorch missing, the script failed).</summary>
    public static (double? MsPerStep, string Description) Measure(int steps, int threads)
    {
        if (!File.Exists(ScriptPath)) return (null, $"the peer script is missing ({ScriptPath})");
        string python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
        var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { ScriptPath, "--steps", steps.ToString(), "--threads", threads.ToString() }) start.ArgumentList.Add(argument);
        string? coreType = Environment.GetEnvironmentVariable(OpenBlas.CoreTypeVariable) ?? OpenBlas.DefaultCoreType;
        if (coreType is not null) start.Environment[OpenBlas.CoreTypeVariable] = coreType;
        try
        {
            using var process = Process.Start(start) ?? throw new InvalidOperationException("no process");
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
            {
                process.Kill(entireProcessTree: true);
                return (null, "the PyTorch peer took longer than 5 minutes and was stopped");
            }
            if (process.ExitCode == 3) return (null, $"PyTorch is not installed for {python} (Debian: apt-get install python3-torch)");
            if (process.ExitCode != 0) return (null, $"the PyTorch peer failed (exit {process.ExitCode}): {stderr.Result.Trim().Split('\n').LastOrDefault()}");
            var line = stdout.Result.Trim().Split('\n').Last();
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            double ms = root.GetProperty("ms_per_step").GetDouble();
            return (ms, $"PyTorch {root.GetProperty("torch").GetString()} on {root.GetProperty("threads").GetInt32()} threads, " +
                $"TorchDEQ's Anderson solver and implicit backward (bench/peers/torch_deq_step.py), OPENBLAS_CORETYPE={coreType ?? "(OpenBLAS's own pick)"}, mean of {steps} steps");
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or JsonException or KeyNotFoundException)
        {
            return (null, $"the PyTorch peer could not run: {e.Message}");
        }
    }
}
