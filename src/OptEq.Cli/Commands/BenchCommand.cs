using System.CommandLine;

namespace OptEq.Cli.Commands;

/// <summary><c>opteq bench …</c>: quick benchmarks for people; BenchmarkDotNet runs live in bench/OptEq.Bench.</summary>
public static class BenchCommand
{
    public static Command Create() => new("bench", "Quick benchmarks that print figures beside a peer measured in the same run.")
    {
        BenchGemmCommand.Create(),
        BenchConvCommand.Create(),
        BenchGramCommand.Create(),
        BenchSolversCommand.Create(),
        BenchTrainingCommands.Step(),
        BenchTrainingCommands.Epoch(),
        BenchAllreduceCommand.Create(),
    };
}
