using System.CommandLine;

namespace OptEq.Cli.Commands;

// Placeholder: replaced by the GEMM benchmark.
public static class BenchGemmCommand
{
    public static Command Create() => new("gemm", "Native sgemm GFLOP/s beside OpenBLAS.");
}
