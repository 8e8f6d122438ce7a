using BenchmarkDotNet.Running;

namespace OptEq.Bench;

public static class Program
{
    // dotnet run -c Release --project bench/OptEq.Bench -- --filter '*'
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
