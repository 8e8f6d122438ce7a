using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace OptEq.Cli.Commands;

/// <summary>Options shared by several commands, so they are spelled and described the same everywhere.</summary>
public static class CommonOptions
{
    public static Option<string?> Device() => new("--device", "-d")
    {
        Description = "Device id (cpu, cuda[:i], opencl[:i], ilgpu-cpu); default: $OPTEQ_DEVICE, else CUDA when present, else cpu. See 'opteq devices'.",
    };

    /// <summary>Where a bench's PyTorch peer runs: "auto" puts it on the kind of device opteq is timed on (see <see cref="PeerDeviceFor"/>).</summary>
    public static Option<string> PeerDevice() => Typed("--peer-device",
        "Where the PyTorch peer runs: cpu, cuda (PyTorch's first CUDA GPU), or auto: cuda when --device is a CUDA device, else cpu.",
        value => value is "auto" or "cpu" or "cuda" ? value : throw new ArgumentException($"--peer-device must be auto, cpu or cuda, got '{value}'"),
        "auto");

    /// <summary>The peer device that --peer-device <paramref name="choice"/> means when opteq runs on <paramref name="device"/>.</summary>
    public static string PeerDeviceFor(string choice, OptEq.Kernels.Device device)
        => choice == "auto" ? (device.Kind == OptEq.Kernels.DeviceKind.Cuda ? "cuda" : "cpu") : choice;

    public static Option<bool> Json() => new("--json")
    {
        Description = "Print one JSON object per line instead of a table.",
    };

    /// <summary>An option whose value is parsed once into a typed value; a bad value is a parse error with the parser's message (which lists the valid names).</summary>
    public static Option<T> Typed<T>(string name, string description, Func<string, T> parse, T defaultValue, params string[] aliases) => new(name, aliases)
    {
        Description = description,
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result =>
        {
            try { return parse(string.Join(" ", result.Tokens.Select(t => t.Value))); }
            catch (Exception e) when (e is ArgumentException or FormatException)
            {
                // Without the " (Parameter 'name')" tail, which names a C# parameter, not the option.
                result.AddError(e is ArgumentException { ParamName: string p } ? e.Message.Replace($" (Parameter '{p}')", "", StringComparison.Ordinal) : e.Message);
                return default;
            }
        },
    };

    /// <summary>Integers given as "64,64,64" or "64 64 64".</summary>
    public static Option<int[]> IntList(string name, string description, int[] defaultValue) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => defaultValue,
        AllowMultipleArgumentsPerToken = true,
        CustomParser = result =>
        {
            var values = new List<int>();
            foreach (var part in result.Tokens.SelectMany(t => t.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
            {
                if (!int.TryParse(part, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v))
                {
                    result.AddError($"{name}: '{part}' is not an integer");
                    return defaultValue;
                }
                values.Add(v);
            }
            return [.. values];
        },
    };
}
