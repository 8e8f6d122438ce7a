using NUnit.Framework;
using OptEq.Tests.Data;
using System.Diagnostics;
using OptEq.Autodiff.Validation;

namespace OptEq.Tests.Reliability;

/// <summary>
/// Special files given as inputs are refused before they are opened: opening a FIFO for reading blocks until a writer
/// comes, so a missed check is a hang, not an error. Each case runs on a worker with a deadline so a regression fails.
/// </summary>
public class SpecialFileTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    [TestCase(false, TestName = "A FIFO is refused")]
    [TestCase(true, TestName = "A symbolic link to a FIFO is refused")]
    public void FifoIsRefusedWithoutBlocking(bool throughLink)
    {
        using var dir = new TempDirectory();
        string fifo = dir.File("pipe");
        var mk = Process.Start(new ProcessStartInfo("mkfifo", [fifo]) { RedirectStandardError = true });
        if (mk is null || !mk.WaitForExit(10_000) || mk.ExitCode != 0) Assert.Ignore("mkfifo is not available here");
        string path = fifo;
        if (throughLink)
        {
            path = dir.File("link.safetensors");
            File.CreateSymbolicLink(path, fifo);
        }
        var open = Task.Run(() => { using var s = InputFiles.OpenRead(path, "checkpoint"); });
        bool finished = Task.WhenAny(open, Task.Delay(Deadline)).GetAwaiter().GetResult() == open;
        Assert.That(finished, Is.True, "opening the FIFO blocked");
        var e = open.Exception?.InnerException as InputException;
        Assert.That(e, Is.Not.Null, $"expected an InputException, got {open.Exception}");
        Assert.That(e!.Kind, Is.EqualTo(InputProblem.Access));
        Assert.That(e.Message, Does.Contain(path).And.Contain("not a regular file"));
    }

    [Test]
    public void LinksToDirectoriesAndMissingFilesAreNamed()
    {
        using var dir = new TempDirectory();
        string toDir = dir.File("dir-link"), toNothing = dir.File("dangling");
        Directory.CreateSymbolicLink(toDir, dir.Path);
        File.CreateSymbolicLink(toNothing, dir.File("absent"));
        var e1 = Assert.Throws<InputException>(() => InputFiles.OpenRead(toDir, "IDX file"))!;
        Assert.That(e1.Message, Does.Contain(toDir).And.Contain("directory"));
        var e2 = Assert.Throws<InputException>(() => InputFiles.OpenRead(toNothing, "IDX file"))!;
        Assert.That(e2.Message, Does.Contain(toNothing));
    }
}
