using System.ComponentModel;
using System.Diagnostics;

namespace OptEq.Tests.Checkpoints;

/// <summary>
/// An independent decoder: a standard-library-only python3 script that reads a file the way the safetensors spec
/// describes it and prints, as JSON, the metadata and per tensor its dtype, shape, the SHA-256 of its bytes and the
/// float64 sum of its finite values (as the little-endian hex of the double's bits, so no formatting differs).
/// </summary>
internal static class PythonSafetensorsCheck
{
    public const string Script = """
        import hashlib, json, math, struct, sys

        SIZES = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
                 "I32": 4, "U32": 4, "F32": 4, "F64": 8, "I64": 8, "U64": 8}
        FORMATS = {"F32": "f", "F64": "d", "I32": "i", "I64": "q"}

        with open(sys.argv[1], "rb") as f:
            blob = f.read()
        (n,) = struct.unpack("<Q", blob[:8])
        if 8 + n > len(blob):
            sys.exit("header length %d exceeds the file" % n)
        header_bytes = blob[8:8 + n]
        if header_bytes[:1] != b"{":
            sys.exit("header does not start with {")
        header = json.loads(header_bytes.decode("utf-8"))
        buffer = blob[8 + n:]
        metadata = header.pop("__metadata__", {})
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            sys.exit("metadata must map strings to strings")

        position = 0
        tensors = []
        for name, info in sorted(header.items(), key=lambda kv: tuple(kv[1]["data_offsets"])):
            begin, end = info["data_offsets"]
            if begin != position:
                sys.exit("tensor %s begins at %d, expected %d" % (name, begin, position))
            count = 1
            for d in info["shape"]:
                count *= d
            if end - begin != count * SIZES[info["dtype"]]:
                sys.exit("tensor %s: shape and dtype do not match its offsets" % name)
            raw = buffer[begin:end]
            record = {"name": name, "dtype": info["dtype"], "shape": info["shape"], "sha256": hashlib.sha256(raw).hexdigest()}
            if info["dtype"] in FORMATS:
                total = 0.0
                for v in struct.unpack("<%d%s" % (count, FORMATS[info["dtype"]]), raw):
                    if math.isfinite(v):
                        total += v
                record["sum_bits"] = struct.pack("<d", total).hex()
            tensors.append(record)
            position = end
        if position != len(buffer):
            sys.exit("the tensors cover %d of %d buffer bytes" % (position, len(buffer)))
        print(json.dumps({"header_length": n, "metadata": metadata, "tensors": tensors}))
        """;

    /// <summary>The python3 executable on PATH, or null.</summary>
    public static string? FindPython()
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, OperatingSystem.IsWindows() ? "python3.exe" : "python3");
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>Runs the script on <paramref name="file"/>; returns its exit code, stdout and stderr.</summary>
    public static (int ExitCode, string Stdout, string Stderr) Run(string python, string scriptPath, string file)
    {
        var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(scriptPath);
        start.ArgumentList.Add(file);
        try
        {
            using var process = Process.Start(start)!;
            var stderr = process.StandardError.ReadToEndAsync();
            string stdout = process.StandardOutput.ReadToEnd();
            if (!process.WaitForExit(TimeSpan.FromSeconds(60))) { process.Kill(); throw new TimeoutException("python3 did not finish in 60 s"); }
            return (process.ExitCode, stdout, stderr.Result);
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException($"could not start {python}: {e.Message}", e);
        }
    }
}
