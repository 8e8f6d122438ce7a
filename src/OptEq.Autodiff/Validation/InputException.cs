namespace OptEq.Autodiff.Validation;

/// <summary>What kind of input was bad; the command line maps each kind to its exit code (docs/cli.md).</summary>
public enum InputProblem
{
    /// <summary>A command-line option's value, or a combination of options (exit code 2).</summary>
    Option,
    /// <summary>A file's contents: format, sizes, values, a model that does not match (exit code 4).</summary>
    Content,
    /// <summary>A file or folder that cannot be used: missing, unreadable, not a regular file, not writable (exit code 5).</summary>
    Access,
}

/// <summary>
/// The project's error for bad input: names the file or option (<see cref="Subject"/>) and says what is wrong with it in
/// plain words. Every reader, validator and option check throws it, so a caller (the command line, a test, a fuzzer)
/// catches one type (the readers threw <see cref="InvalidDataException"/> before it existed).
/// </summary>
public sealed class InputException : Exception
{
    public InputException(InputProblem kind, string subject, string problem, Exception? inner = null)
        : base($"{subject}: {problem}", inner)
    {
        Kind = kind;
        Subject = subject;
        Problem = problem;
    }

    public InputProblem Kind { get; }
    /// <summary>The file's path or the option's name (e.g. "--lr").</summary>
    public string Subject { get; }
    public string Problem { get; }

    public static InputException Content(string path, string problem, Exception? inner = null) => new(InputProblem.Content, path, problem, inner);
    public static InputException Access(string path, string problem, Exception? inner = null) => new(InputProblem.Access, path, problem, inner);
    public static InputException Option(string option, string problem) => new(InputProblem.Option, option, problem);
}
