namespace OptEq.Tests.Training;

/// <summary>Runs <c>opteq</c> in this process with its console captured, and finds the bundled DIGITS set, for the CLI tests.</summary>
internal static class InProcessCli
{
    public static (int Exit, string Output, string Error) Run(params string[] args) => Capture(() => OptEq.Cli.Program.Main(args));

    /// <summary>Runs an entry point with standard output and error captured (the test must be NonParallelizable).</summary>
    public static (int Exit, string Output, string Error) Capture(Func<int> main)
    {
        var error = new StringWriter();
        var output = new StringWriter();
        var previous = Console.Error;
        var previousOut = Console.Out;
        Console.SetError(error);
        Console.SetOut(output);
        try { return (main(), output.ToString(), error.ToString()); }
        finally { Console.SetError(previous); Console.SetOut(previousOut); }
    }

    /// <summary>The bundled 8×8 DIGITS folder beside the bundled MNIST.</summary>
    public static string Digits => Path.Combine(Path.GetDirectoryName(OptEq.Autodiff.Data.DatasetLoader.FindBundled([AppContext.BaseDirectory]))!, "digits");
}
