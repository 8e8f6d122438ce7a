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
        return CliErrors.Run(() => root.Parse(args).Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false }));
    }
}
