using OptEq.Autodiff.Training;
using OptEq.Autodiff.Validation;
using OptEq.Kernels;

namespace OptEq.Cli.Commands;

/// <summary>
/// Turns the library's expected errors into one clear line ("opteq: error: …") and a documented non-zero exit code,
/// instead of a stack trace. The codes (docs/cli.md): 2 a bad option or combination of options, 3 training diverged,
/// 4 a file whose contents are invalid, 5 a file or folder that cannot be used (missing, unreadable, special, unwritable).
/// </summary>
public static class CliErrors
{
    public const int UsageError = 2;
    public const int Diverged = 3;
    public const int InvalidFile = 4;
    public const int FileAccess = 5;

    public static int Run(Func<int> action)
    {
        try { return action(); }
        catch (Exception e) when (ExitCode(e) is int code)
        {
            Console.Error.WriteLine($"opteq: error: {Message(e)}");
            return code;
        }
    }

    /// <summary>The message without .NET's " (Parameter 'x')" and "Actual value was" tails, which name C# parameters, not options.</summary>
    public static string Message(Exception e)
    {
        string message = e.Message;
        if (e is ArgumentOutOfRangeException { ActualValue: not null } range)
            message = message.Replace($"{Environment.NewLine}Actual value was {range.ActualValue}.", "", StringComparison.Ordinal);
        if (e is ArgumentException { ParamName: string name }) message = message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal);
        return message;
    }

    /// <summary>The exit code of an expected error; null for anything else (a bug, which keeps its stack trace).</summary>
    public static int? ExitCode(Exception e) => e switch
    {
        InputException { Kind: InputProblem.Option } => UsageError,
        InputException { Kind: InputProblem.Content } => InvalidFile,
        InputException { Kind: InputProblem.Access } => FileAccess,
        TrainingDivergedException => Diverged,
        InvalidDataException => InvalidFile,
        FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException or IOException => FileAccess,
        DeviceNotFoundException or ShapeException or ArgumentException or NotSupportedException => UsageError,
        _ => null,
    };
}
