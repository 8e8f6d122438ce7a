using OptEq.Kernels;

namespace OptEq.Cli.Commands;

/// <summary>Turns the library's expected errors into one clear line and a non-zero exit, instead of a stack trace.</summary>
public static class CliErrors
{
    public const int UsageError = 2;

    public static int Run(Func<int> action)
    {
        try { return action(); }
        catch (Exception e) when (e is DeviceNotFoundException or ShapeException or ArgumentException or InvalidDataException or IOException or NotSupportedException)
        {
            Console.Error.WriteLine($"opteq: error: {e.Message}");
            return UsageError;
        }
    }
}
