using NUnit.Framework;

namespace OptEq.Tests.SelfRun;

/// <summary>The test assembly's own runner (<see cref="Program"/>): its arguments and its listing (it runs nothing here).</summary>
[NonParallelizable] // redirects the console
public class ProgramTests
{
    private static (int Exit, string Error, string Output) Run(params string[] args)
    {
        var (exit, output, error) = Training.InProcessCli.Capture(() => Program.Main(args));
        return (exit, error, output);
    }

    [Test]
    public void ListsExactlyTheTestsTheFilterSelects()
    {
        var (exit, error, output) = Run("--list", "--where", @"Pool2dKernelTests\(""cpu""\)");
        Assert.That(exit, Is.Zero, error);
        var names = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.That(names, Is.Not.Empty);
        Assert.That(names, Has.All.StartWith(@"OptEq.Tests.Kernels.Pool2dKernelTests(""cpu"")."));
        Assert.That(names, Is.Unique);
    }

    [Test]
    public void BadArgumentsAreUsageErrors()
    {
        var (exit, error, _) = Run("--bogus");
        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.Contain("unknown argument '--bogus'").And.Contain("usage"));
        (exit, error, _) = Run("--where", "(unclosed");
        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.Contain("--where is not a regular expression"));
        (exit, error, _) = Run("--where");
        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.Contain("--where needs a regular expression"));
    }
}
