using NUnit.Framework;
using OptEq.Autodiff.Checkpoints;
using OptEq.Cli;
using OptEq.Cli.Commands;
using OptEq.Tests.Data;

namespace OptEq.Tests.Reliability;

/// <summary>
/// A table of bad command lines run in-process through <see cref="Program.Main"/>: each must end with its documented
/// exit code (docs/cli.md) and one clear line on stderr that names the option or file — never a stack trace.
/// </summary>
[TestFixture]
[NonParallelizable] // redirects the console
public class CommandLineTableTests
{
    private TempDirectory _dir = null!;
    private string _data = null!, _run = null!, _checkpoint = null!, _nanCheckpoint = null!, _aFile = null!;
    private static readonly string[] Small = ["--hidden", "8", "--epochs", "1", "--batch", "50", "--augment", "0"];

    [OneTimeSetUp]
    public void TrainOnce()
    {
        _dir = new TempDirectory();
        _data = _dir.File("data");
        Directory.CreateDirectory(_data);
        TinyIdxData.Write(_data);
        _run = _dir.File("run");
        var (code, _, error) = Run(["train", "--data", _data, "--out", _run, .. Small]);
        Assert.That(code, Is.Zero, error);
        _checkpoint = Path.Combine(_run, "checkpoint.safetensors");
        var broken = Checkpoint.Load(_checkpoint);
        BitConverter.GetBytes(float.NaN).CopyTo(broken.GetTensor("model.opteq.U").Data, 4 * 5);
        _nanCheckpoint = _dir.File("nan.safetensors");
        broken.Save(_nanCheckpoint);
        _aFile = _dir.File("a-file");
        File.WriteAllText(_aFile, "x");
    }

    [OneTimeTearDown] public void Remove() => _dir.Dispose();

    private static (int Code, string Out, string Error) Run(string[] args)
    {
        var (stdout, stderr) = (Console.Out, Console.Error);
        using var output = new StringWriter();
        using var error = new StringWriter();
        Console.SetOut(output);
        Console.SetError(error);
        try { return (Program.Main(args), output.ToString(), error.ToString()); }
        finally { Console.SetOut(stdout); Console.SetError(stderr); }
    }

    private string[] Train(params string[] extra)
    {
        var given = extra.Where(a => a.StartsWith("--", StringComparison.Ordinal)).ToHashSet();
        var small = Small.Chunk(2).Where(pair => !given.Contains(pair[0])).SelectMany(pair => pair);
        return ["train", "--data", _data, "--out", _dir.File("out"), .. small, .. extra];
    }

    /// <summary>(name, arguments, exit code, words the message must contain).</summary>
    private IEnumerable<(string Name, string[] Args, int Code, string Says)> Table()
    {
        const int usage = CliErrors.UsageError, content = CliErrors.InvalidFile, access = CliErrors.FileAccess;
        yield return ("lr 0", Train("--lr", "0"), usage, "--lr");
        yield return ("lr NaN", Train("--lr", "NaN"), usage, "--lr");
        yield return ("lr negative", Train("--lr", "-1"), usage, "--lr");
        yield return ("clip negative", Train("--clip", "-1"), usage, "--clip");
        yield return ("augment negative", Train("--augment", "-1"), usage, "--augment");
        yield return ("augment 100", Train("--augment", "100"), usage, "--augment");
        yield return ("augment half the image", Train("--augment", "4"), usage, "--augment");
        yield return ("hidden 100000", Train("--hidden", "100000"), usage, "--hidden");
        yield return ("hidden 0", Train("--hidden", "0"), usage, "--hidden");
        yield return ("forward iterations 0", Train("--forward-iterations", "0"), usage, "--forward-iterations");
        yield return ("forward tolerance NaN", Train("--forward-tolerance", "NaN"), usage, "--forward-tolerance");
        yield return ("backward iterations 0", Train("--backward-iterations", "0"), usage, "--backward-iterations");
        yield return ("batch 0", Train("--batch", "0"), usage, "--batch");
        yield return ("epochs 0", Train("--epochs", "0"), usage, "--epochs");
        yield return ("holdout negative", Train("--holdout", "-1"), usage, "--holdout");
        yield return ("holdout leaves no batch", Train("--holdout", "1000000"), usage, "--holdout");
        yield return ("gamma 1.5", Train("--gamma", "1.5"), usage, "--gamma");
        yield return ("weight decay negative", Train("--weight-decay", "-1"), usage, "--weight-decay");
        yield return ("tiers 0", Train("--model", "deep-opteq", "--tiers", "0"), usage, "--tiers");
        yield return ("stop after past the end", Train("--stop-after", "5"), usage, "--stop-after");
        yield return ("unknown schedule", Train("--schedule", "bogus"), usage, "bogus");
        yield return ("unknown optimizer", Train("--optimizer", "bogus"), usage, "bogus");
        yield return ("unknown model", Train("--model", "bogus"), usage, "bogus");
        yield return ("epochs not a number", Train("--epochs", "x"), usage, "--epochs");
        yield return ("unknown option", Train("--no-such-option"), usage, "--no-such-option");
        yield return ("missing data folder", ["train", "--data", _dir.File("nowhere"), "--out", _dir.File("o2")], access, "nowhere");
        yield return ("data folder is a file", ["train", "--data", _aFile, "--out", _dir.File("o3")], access, "a-file");
        yield return ("out under a file", ["train", "--data", _data, "--out", Path.Combine(_aFile, "sub"), .. Small], access, "--out");
        yield return ("out is a file", ["train", "--data", _data, "--out", _aFile, .. Small], access, "--out");
        yield return ("resume a finished run", Train("--resume", _checkpoint), usage, "already trained");
        yield return ("resume with another lr", Train("--resume", _checkpoint, "--epochs", "2", "--lr", "0.01", "--schedule", "constant"), usage, "--lr");
        yield return ("resume with another hidden", Train("--resume", _checkpoint, "--epochs", "2", "--hidden", "9"), usage, "hidden");
        yield return ("resume a NaN checkpoint", Train("--resume", _nanCheckpoint, "--epochs", "2"), content, "model.opteq.U");
        yield return ("eval a NaN checkpoint", ["eval", "--checkpoint", _nanCheckpoint, "--data", _data], content, "not finite");
        yield return ("eval a missing checkpoint", ["eval", "--checkpoint", _dir.File("none.safetensors"), "--data", _data], access, "none.safetensors");
        yield return ("eval a folder", ["eval", "--checkpoint", _dir.Path, "--data", _data], access, "directory");
        yield return ("eval an IDX file", ["eval", "--checkpoint", Path.Combine(_data, "train-labels-idx1-ubyte"), "--data", _data], content, "train-labels-idx1-ubyte");
        yield return ("eval batch 0", ["eval", "--checkpoint", _checkpoint, "--data", _data, "--batch", "0"], usage, "--batch");
        yield return ("solve index -1", ["solve", "--checkpoint", _checkpoint, "--data", _data, "--index", "-1", "--out", _dir.File("s")], usage, "--index");
        yield return ("solve index past the end", ["solve", "--checkpoint", _checkpoint, "--data", _data, "--index", "100", "--out", _dir.File("s")], usage, "--index");
        yield return ("solve iterations 0", ["solve", "--checkpoint", _checkpoint, "--data", _data, "--iterations", "0", "--out", _dir.File("s")], usage, "--iterations");
        yield return ("eval without a checkpoint", ["eval", "--data", _data], usage, "--checkpoint");
    }

    [Test]
    public void EveryBadCommandLineGetsItsExitCodeAndAClearMessage()
    {
        var failures = new List<string>();
        int cases = 0;
        foreach (var (name, args, code, says) in Table())
        {
            cases++;
            var (actual, _, error) = Run(args);
            string firstLine = error.Split('\n').FirstOrDefault(l => l.Trim().Length > 0) ?? "";
            if (actual != code) failures.Add($"{name}: exit {actual}, expected {code}: {firstLine}");
            else if (error.Contains("   at ", StringComparison.Ordinal) || error.Contains("(Parameter '", StringComparison.Ordinal)) failures.Add($"{name}: a stack trace or parameter name: {error}");
            else if (!error.Contains(says, StringComparison.Ordinal)) failures.Add($"{name}: the message does not say '{says}': {firstLine}");
        }
        TestContext.Out.WriteLine($"{cases} bad command lines, {cases - failures.Count} with the documented exit code and a clear message");
        Assert.That(failures, Is.Empty, string.Join("\n", failures));
    }

    [Test]
    public void HoldoutJudgesTheEpochsAndReadsTheTestSetOnceAtTheEnd()
    {
        string run = _dir.File("holdout");
        var (code, output, error) = Run(["train", "--data", _data, "--out", run, "--holdout", "60", .. Small]);
        Assert.That(code, Is.Zero, error);
        Assert.That(output, Does.Contain("240 images").And.Contain("60 held out"), "the training set shrinks by the held-out images");
        Assert.That(output, Does.Contain("holdout acc").And.Contain("test set, read once with the final model"));
        using var metrics = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "metrics.json")));
        var root = metrics.RootElement;
        Assert.That(root.GetProperty("per_epoch_evaluation").GetString(), Is.EqualTo("holdout"));
        double test = root.GetProperty("final_test_accuracy").GetDouble(), heldOut = root.GetProperty("test_accuracy")[0].GetDouble();
        // 100 test images and 60 held-out ones: each accuracy is a multiple of its own set's 1/count.
        Assert.That(test * 100, Is.EqualTo(Math.Round(test * 100)).Within(1e-9));
        Assert.That(heldOut * 60, Is.EqualTo(Math.Round(heldOut * 60)).Within(1e-9));
    }

    [Test]
    public void ResumingWithTheSameOptionsAndALongerConstantScheduleContinues()
    {
        // The constant schedule does not depend on the run's length: --epochs may grow without --allow-option-change.
        string run = _dir.File("constant");
        Assert.That(Run(["train", "--data", _data, "--out", run, "--schedule", "constant", .. Small]).Code, Is.Zero);
        string checkpoint = Path.Combine(run, "checkpoint.safetensors");
        var (code, _, error) = Run(["train", "--data", _data, "--out", run, "--schedule", "constant", "--resume", checkpoint, .. Small.Select(a => a == "1" ? "2" : a)]);
        Assert.That(code, Is.Zero, error);
        var lines = File.ReadAllLines(Path.Combine(run, "metrics.csv"));
        Assert.That(lines.Skip(1).Select(l => l.Split(',')[0]), Is.EqualTo(new[] { "1", "2" }), "metrics.csv keeps the epoch before the resume");
        Assert.That(Checkpoint.Load(checkpoint).Epoch, Is.EqualTo(2));
    }

    [Test]
    public void AChangedOptionIsAcceptedWhenAllowedExplicitly()
    {
        string run = _dir.File("allowed");
        var (code, _, error) = Run(["train", "--data", _data, "--out", run, "--resume", _checkpoint, "--allow-option-change", "--lr", "0.001", .. Small.Select(a => a == "1" ? "2" : a)]);
        Assert.That(code, Is.Zero, error);
        Assert.That(Checkpoint.Load(Path.Combine(run, "checkpoint.safetensors")).Epoch, Is.EqualTo(2));
    }

    [Test]
    public void StaleTemporaryFilesAreRemovedAtStart()
    {
        string run = _dir.File("stale");
        Directory.CreateDirectory(run);
        string stale = Path.Combine(run, "checkpoint.safetensors.tmp-0123456789ab"), plot = Path.Combine(run, ".loss.png.0123.tmp"), mine = Path.Combine(run, "notes.txt");
        foreach (var f in new[] { stale, plot, mine }) File.WriteAllText(f, "x");
        Assert.That(Run(["train", "--data", _data, "--out", run, .. Small]).Code, Is.Zero);
        Assert.That((File.Exists(stale), File.Exists(plot), File.Exists(mine)), Is.EqualTo((false, false, true)));
    }
}
