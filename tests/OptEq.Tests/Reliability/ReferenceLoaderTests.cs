using System.Diagnostics;
using System.Text.Json;
using NUnit.Framework;
using OptEq.Autodiff.Checkpoints;
using OptEq.Cli;
using OptEq.Tests.Data;

namespace OptEq.Tests.Reliability;

/// <summary>
/// A PyTorch user's view: tools/python/opteq_load.py (numpy only) rebuilds the model from a checkpoint's metadata and
/// tensors and must reproduce <c>opteq eval</c> — the same confusion matrix, so the same accuracy — on a model trained
/// here for a few seconds. Needs /usr/bin/python3 with numpy; ignored, saying so, without them.
/// </summary>
[TestFixture]
[NonParallelizable] // redirects the console
public class ReferenceLoaderTests
{
    private const string Python = "/usr/bin/python3";

    /// <remarks>With the MMC loss (docs/math.md §7.9) the loader reads the loss from the training record and predicts the
    /// nearest centre; that model learns more slowly here (29.5 % after 2 epochs), so it trains 4.</remarks>
    [TestCase("ce")]
    [TestCase("mmc")]
    public void ThePythonLoaderReproducesEval(string loss)
    {
        if (!File.Exists(Python)) Assert.Ignore($"{Python} is not installed: the reference loader was not run");
        var (numpy, numpyError) = Exec(Python, ["-c", "import numpy"]);
        if (numpy != 0) Assert.Ignore($"{Python} has no numpy ({numpyError.Trim()}): the reference loader was not run");
        string script = Path.Combine(RepositoryRoot(), "tools", "python", "opteq_load.py");

        using var dir = new TempDirectory();
        string data = dir.File("data"), run = dir.File("run");
        Directory.CreateDirectory(data);
        TinyIdxData.Write(data, noise: 170, test: 200); // noisy enough that some test images are misclassified
        Assert.That(Cli(["train", "--data", data, "--out", run, "--hidden", "12", "--epochs", loss == "mmc" ? "4" : "2", "--batch", "50", "--augment", "0", "--loss", loss]).Code, Is.Zero);
        string checkpoint = Path.Combine(run, "checkpoint.safetensors");
        var card = Checkpoint.Load(checkpoint).Metadata;
        Assert.That(card[ModelCard.ForwardKey], Does.Contain("z = relu(z·M + x·Uᵀ + b)"));
        Assert.That(card[ModelCard.TensorsKey], Does.Contain("W = γ·V/‖V‖_F"));
        Assert.That(card[ModelCard.PreprocessingKey], Does.Contain("pixel / 255"));
        Assert.That(card[ModelCard.ForwardKey], Does.Contain(loss == "mmc" ? "Max-Mahalanobis centre" : "the argmax of the last output"));

        var (code, output, _) = Cli(["eval", "--checkpoint", checkpoint, "--data", data, "--json"]);
        Assert.That(code, Is.Zero);
        using var eval = JsonDocument.Parse(output.Trim().Split('\n')[^1]);
        var confusion = eval.RootElement.GetProperty("confusion").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetInt32()).ToArray()).ToArray();
        double accuracy = eval.RootElement.GetProperty("accuracy").GetDouble();

        var (pythonCode, pythonOutput) = Exec(Python, [script, "--checkpoint", checkpoint, "--data", data, "--json"]);
        Assert.That(pythonCode, Is.Zero, pythonOutput);
        using var reference = JsonDocument.Parse(pythonOutput);
        var predictions = reference.RootElement.GetProperty("predictions").EnumerateArray().Select(p => p.GetInt32()).ToArray();
        var labels = global::OptEq.Autodiff.Data.IdxReader.ReadLabels(Path.Combine(data, "t10k-labels-idx1-ubyte")).Data;
        var pythonConfusion = new int[confusion.Length][];
        for (int i = 0; i < confusion.Length; i++) pythonConfusion[i] = new int[confusion.Length];
        for (int s = 0; s < labels.Length; s++) pythonConfusion[labels[s]][predictions[s]]++;

        TestContext.Out.WriteLine($"opteq eval {accuracy:P2}, numpy reference {reference.RootElement.GetProperty("accuracy").GetDouble():P2} on {labels.Length} images");
        Assert.That(accuracy, Is.InRange(0.3, 0.99), "a partly learnt model, so that agreement means something");
        Assert.That(pythonConfusion, Is.EqualTo(confusion), "the reference loader predicts every class count as opteq eval does");
        Assert.That(reference.RootElement.GetProperty("accuracy").GetDouble(), Is.EqualTo(accuracy).Within(1e-12));
    }

    private static (int Code, string Out, string Error) Cli(string[] args)
    {
        var (stdout, stderr) = (Console.Out, Console.Error);
        using var output = new StringWriter();
        using var error = new StringWriter();
        Console.SetOut(output);
        Console.SetError(error);
        try { return (Program.Main(args), output.ToString(), error.ToString()); }
        finally { Console.SetOut(stdout); Console.SetError(stderr); }
    }

    private static (int Code, string Output) Exec(string file, string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(120))) { process.Kill(); Assert.Fail($"{file} did not finish in 120 s"); }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    private static string RepositoryRoot()
    {
        for (var d = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "OptEq.Gpu.sln"))) return d.FullName;
        throw new DirectoryNotFoundException("the repository root (OptEq.Gpu.sln) is not above the test directory");
    }
}
