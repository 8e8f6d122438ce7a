using System.CommandLine;

namespace OptEq.Cli.Commands;

/// <summary>Options shared by several commands, so they are spelled and described the same everywhere.</summary>
public static class CommonOptions
{
    public static Option<string?> Device() => new("--device", "-d")
    {
        Description = "Device id (cpu, cuda[:i], opencl[:i], ilgpu-cpu); default: $OPTEQ_DEVICE, else CUDA when present, else cpu. See 'opteq devices'.",
    };

    public static Option<bool> Json() => new("--json")
    {
        Description = "Print one JSON object per line instead of a table.",
    };
}
