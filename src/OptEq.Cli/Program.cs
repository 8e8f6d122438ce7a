using System.CommandLine;
using OptEq.Cli.Commands;

namespace OptEq.Cli;

public static class Program
{
    public static int Main(string[] args)
    {
        var root = new RootCommand("opteq: optimization-induced equilibrium networks on ILGPU and native CPU kernels")
        {
            DevicesCommand.Create(),
            BenchCommand.Create(),
            CheckGradientsCommand.Create(),
            TrainCommand.Create(),
            EvalCommand.Create(),
            SolveCommand.Create(),
            GrowCommand.Create(),
            OptimizersCompareCommand.Create(),
        };
        // The default handler would print a stack trace; expected errors go through CliErrors as one clear line instead.
        // A parse error (unknown option, malformed value) is a usage error like any other bad option: exit code 2, not the parser's 1.
        return CliErrors.Run(() =>
        {
            var parsed = root.Parse(args);
            int code = parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
            return parsed.Errors.Count > 0 && code != 0 ? CliErrors.UsageError : code;
        });
    }
}
