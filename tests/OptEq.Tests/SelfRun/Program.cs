using System.Security;
using System.Text.RegularExpressions;
using NUnit.Framework.Api;
using NUnit.Framework.Interfaces;
using NUnit.Framework.Internal;

namespace OptEq.Tests.SelfRun;

/// <summary>
/// The test assembly's own entry point: runs its NUnit tests through NUnit's framework API, with no .NET SDK and no test
/// adapter, so that a self-contained publish of this project tests a machine that has only the published folder (a GPU
/// box: tools/gpu/check.sh). <c>dotnet test</c> does not call it; it loads the assembly as a library.
///
/// Usage: <c>OptEq.Tests [--where REGEX] [--list]</c>. REGEX is matched against full test names, fixture arguments included
/// (<c>--where '"cuda:0"'</c> selects every kernel fixture on the first CUDA device). The last line is
/// <c>N passed, N failed, N skipped</c>; the exit code is 1 when a test failed, 2 on bad arguments.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        string? where = null;
        bool list = false;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--where" when i + 1 < args.Length: where = args[++i]; break;
                case "--where":
                    Console.Error.WriteLine("OptEq.Tests: --where needs a regular expression after it");
                    return 2;
                case "--list": list = true; break;
                default:
                    Console.Error.WriteLine($"OptEq.Tests: unknown argument '{args[i]}'; usage: OptEq.Tests [--where REGEX] [--list]");
                    return 2;
            }
        }
        if (where is not null)
        {
            try { _ = new Regex(where); }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine($"OptEq.Tests: --where is not a regular expression: {e.Message}");
                return 2;
            }
        }

        var runner = new NUnitTestAssemblyRunner(new DefaultTestAssemblyBuilder());
        runner.Load(typeof(Program).Assembly, new Dictionary<string, object>());
        ITestFilter filter = where is null ? TestFilter.Empty
            : TestFilter.FromXml($"<filter><test re=\"1\">{SecurityElement.Escape(where)}</test></filter>");
        if (list)
        {
            foreach (var name in Leaves(runner.LoadedTest!).Where(filter.Pass).Select(t => t.FullName)) Console.WriteLine(name);
            return 0;
        }

        var listener = new ConsoleListener();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var result = runner.Run(listener, filter);
        Console.WriteLine($"{result.PassCount} passed, {result.FailCount} failed, {result.SkipCount + result.InconclusiveCount} skipped " +
            $"({clock.Elapsed.TotalSeconds:F0} s)");
        return result.FailCount > 0 || listener.SuiteFailures > 0 ? 1 : 0;
    }

    private static IEnumerable<ITest> Leaves(ITest test)
        => test.HasChildren ? test.Tests.SelectMany(Leaves) : [test];

    /// <summary>Prints each failure as it happens (a fixture's failed one-time set-up too), and a line per finished fixture.</summary>
    private sealed class ConsoleListener : ITestListener
    {
        // NUnit points Console.Out at each test's captured output while it runs: write to the real one, taken before.
        private readonly TextWriter _out = Console.Out;

        public int SuiteFailures { get; private set; }

        public void TestStarted(ITest test) { }

        public void TestFinished(ITestResult result)
        {
            var status = result.ResultState.Status;
            if (!result.Test.IsSuite)
            {
                if (status == TestStatus.Failed) _out.WriteLine($"FAILED {result.Test.FullName}: {result.Message?.Trim()}\n{result.StackTrace}");
                return;
            }
            if (status == TestStatus.Failed && result.ResultState.Site is FailureSite.SetUp or FailureSite.TearDown)
            {
                SuiteFailures++;
                _out.WriteLine($"FAILED (one-time {result.ResultState.Site}) {result.Test.FullName}: {result.Message?.Trim()}");
            }
            if (result.Test.TestType == "TestFixture" && result.Test.RunState != RunState.NotRunnable)
                _out.WriteLine($"  {result.Test.FullName}: {result.PassCount} passed, {result.FailCount} failed, {result.SkipCount} skipped, {result.Duration:F1} s");
        }

        public void TestOutput(TestOutput output) { }

        public void SendMessage(TestMessage message) { }
    }
}
