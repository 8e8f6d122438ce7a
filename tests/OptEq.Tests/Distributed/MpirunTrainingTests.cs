using System.Diagnostics;
using NUnit.Framework;
using OptEq.Autodiff.Checkpoints;
using OptEq.Autodiff.Data;
using OptEq.Tests.Data;

namespace OptEq.Tests.Distributed;

/// <summary>
/// <c>mpirun -np 2 opteq train</c> against one process, on a tiny synthetic IDX dataset: the same parameters after
/// every step to float32 summation-order tolerance, and checkpoints that resume across rank counts. Runs when
/// <c>mpirun</c> is on PATH (CI installs openmpi-bin); otherwise ignored, saying why.
/// </summary>
/// <remarks>
/// Tolerance. The two runs differ only in how each global-batch gradient is summed: one GEMM reduction over the 16
/// samples, against two reductions over 8 (6/5 in the short last batch) scaled by n_r/n and added by MPI. Each
/// float32 sum of n terms is within γ_n·Σ|terms| (γ_n ≈ n·2⁻²⁴) of the exact one, so with n = 16 a gradient entry
/// differs by ≲ 16·6·10⁻⁸·Σ|terms| ≈ 10⁻⁶ relative. SGD with momentum 0.9 turns a gradient error e into
/// parameter changes of at most lr·e/(1−0.9) per step; over the 10 steps here, with lr = 0.05 and gradient
/// entries below ~1, that bounds the drift by 10·0.05·10·10⁻⁶ = 5·10⁻⁶ before the (small, few-step) growth through
/// the loss's curvature. The test allows 10⁻⁵ absolute (the bound with 2× for that growth) + 10⁻⁵ relative, and
/// checks that training moved the parameters by more than 100× that, so a run that averaged wrongly (e.g. kept
/// each rank's shard gradient, an error of order lr·|g| ≈ 10⁻²) fails. Measured: |Δ| ≤ 9·10⁻⁸. SGD rather than Adam: Adam's first steps are lr·g/|g|, which turns a
/// rounding-level difference in a near-zero gradient entry into a full ±lr step. The equilibrium model adds the
/// forward and adjoint solves: they stop per sample (a sample's status does not depend on the others in its batch),
/// so sharding changes only the same summation orders, and the same tolerance holds.
/// </remarks>
[NonParallelizable]
public class MpirunTrainingTests
{
    private const double AbsoluteTolerance = 1e-5, RelativeTolerance = 1e-5;
    private TempDirectory _dir = null!;
    private string _mpirun = null!;

    /// <summary>75 training images (batch 16: four full batches and one of 11, split 6/5 over two ranks), 4 classes of 8×8.</summary>
    private static readonly string[] Common =
    [
        "train", "--optimizer", "sgd", "--lr", "0.05", "--schedule", "constant", "--batch", "16", "--seed", "3", "--device", "cpu",
    ];

    /// <summary>A plain network, and an equilibrium one whose forward solves stop per sample (so per-rank iteration counts differ).</summary>
    private static readonly Dictionary<string, string[]> Models = new()
    {
        ["mlp"] = ["--model", "mlp", "--layers", "12"],
        ["opteq"] = ["--model", "opteq", "--hidden", "12"],
    };

    [OneTimeSetUp]
    public void WriteData()
    {
        _mpirun = FindOnPath("mpirun") ?? null!;
        _dir = new TempDirectory();
        WriteSplit(_dir.Path, 75, "train", seed: 1);
        WriteSplit(_dir.Path, 24, "t10k", seed: 2);
    }

    [OneTimeTearDown]
    public void Delete() => _dir.Dispose();

    [TestCase("mlp"), TestCase("opteq")]
    public void TwoRanksGiveTheParametersOfOneProcess(string model)
    {
        RequireMpirun();
        string single = RunSingle($"single-{model}", model, epochs: 2);
        string initial = RunSingle($"initial-{model}", model, epochs: 1, still: true);
        string ranks = RunMpirun($"ranks-{model}", model, epochs: 2);
        AssertSameTensors(single, ranks, moved: initial);
        Assert.That(File.ReadAllText(Path.Combine(ranks, "metrics.json")), Does.Contain("\"ranks\": 2"));
    }

    [Test]
    public void CheckpointsResumeAcrossRankCounts()
    {
        RequireMpirun();
        string single = RunSingle("resume-single", "mlp", epochs: 2);
        // Two ranks for epoch 1, then one process for epoch 2; and the other way round.
        string a1 = RunMpirun("a1", "mlp", epochs: 1);
        string a2 = RunSingle("a2", "mlp", epochs: 2, resume: Path.Combine(a1, "checkpoint.safetensors"));
        string b1 = RunSingle("b1", "mlp", epochs: 1);
        string b2 = RunMpirun("b2", "mlp", epochs: 2, resume: Path.Combine(b1, "checkpoint.safetensors"));
        AssertSameTensors(single, a2, moved: null);
        AssertSameTensors(single, b2, moved: null);
    }

    private void RequireMpirun()
    {
        if (_mpirun is null) Assert.Ignore("mpirun is not on PATH: install Open MPI (Debian: openmpi-bin, as .ci/run does) to run the 2-rank training tests");
    }

    /// <summary>
    /// Trains in this process (no launcher variables: a single process); returns the run folder. <paramref name="still"/>
    /// sets the learning rate to 10⁻³⁰: the initial parameters, for "training moved them" (the CLI has no 0-step run).
    /// </summary>
    private string RunSingle(string name, string model, int epochs, string? resume = null, bool still = false)
    {
        string output = _dir.File(name);
        string[] args = [.. Arguments(model, output, epochs, resume)];
        if (still) args[Array.IndexOf(args, "--lr") + 1] = "1e-30";
        var previous = (Console.Out, Console.Error);
        var log = new StringWriter();
        Console.SetOut(log);
        Console.SetError(log);
        int exit;
        try { exit = OptEq.Cli.Program.Main(args); }
        finally { Console.SetOut(previous.Out); Console.SetError(previous.Error); }
        Assert.That(exit, Is.Zero, log.ToString());
        return output;
    }

    private string[] Arguments(string model, string output, int epochs, string? resume) =>
        [.. Common, .. Models[model], "--data", _dir.Path, "--out", output, "--epochs", epochs.ToString(), .. resume is null ? Array.Empty<string>() : ["--resume", resume]];

    /// <summary>Trains with <c>mpirun -np 2</c> of the built CLI; returns the run folder.</summary>
    private string RunMpirun(string name, string model, int epochs, string? resume = null)
    {
        string output = _dir.File(name);
        var start = new ProcessStartInfo(_mpirun) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        // Open MPI refuses root without these, and more ranks than cores without oversubscription (set through its
        // environment, so the command line stays valid for other launchers).
        start.Environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1";
        start.Environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1";
        start.Environment["OMPI_MCA_rmaps_base_oversubscribe"] = "1";
        // Containers often forbid the cross-process reads (CMA) of Open MPI's shared-memory transport: plain copies work everywhere.
        start.Environment["OMPI_MCA_btl_vader_single_copy_mechanism"] = "none";
        foreach (string arg in (string[])["-np", "2", Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet", Path.Combine(AppContext.BaseDirectory, "opteq.dll"),
                     .. Arguments(model, output, epochs, resume)])
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"mpirun -np 2 opteq train did not finish in 120 s:\n{stdout.Result}\n{stderr.Result}");
        }
        Assert.That(process.ExitCode, Is.Zero, $"mpirun -np 2 opteq train:\n{stdout.Result}\n{stderr.Result}");
        Assert.That(stdout.Result, Does.Contain("data-parallel over 2 ranks"));
        return output;
    }

    /// <summary>Every float32 tensor of the two checkpoints (parameters and optimizer state) agrees to the tolerance.</summary>
    private static void AssertSameTensors(string expectedRun, string actualRun, string? moved)
    {
        var expected = SafetensorsReader.Read(Path.Combine(expectedRun, "checkpoint.safetensors"));
        var actual = SafetensorsReader.Read(Path.Combine(actualRun, "checkpoint.safetensors"));
        var initial = moved is null ? null : SafetensorsReader.Read(Path.Combine(moved, "checkpoint.safetensors"));
        double worst = 0, travelled = 0;
        int compared = 0;
        foreach (var tensor in expected.Tensors.Where(t => t.DType == SafetensorsDType.F32))
        {
            var e = tensor.AsSpan<float>();
            var a = actual[tensor.Name].AsSpan<float>();
            Assert.That(a.Length, Is.EqualTo(e.Length), tensor.Name);
            for (int i = 0; i < e.Length; i++)
            {
                double diff = Math.Abs(a[i] - e[i]);
                worst = Math.Max(worst, diff);
                if (diff > AbsoluteTolerance + RelativeTolerance * Math.Abs(e[i]))
                    Assert.Fail($"{tensor.Name}[{i}]: {a[i]:R} against {e[i]:R} (|Δ| {diff:G3})");
            }
            if (initial is not null && initial.TryGet(tensor.Name, out var start) && start.Shape.SequenceEqual(tensor.Shape))
            {
                var s = start.AsSpan<float>();
                for (int i = 0; i < e.Length; i++) travelled = Math.Max(travelled, Math.Abs(e[i] - s[i]));
            }
            compared++;
        }
        Assert.That(compared, Is.GreaterThan(0), "the checkpoints hold float32 tensors");
        if (initial is not null)
            Assert.That(travelled, Is.GreaterThan(100 * AbsoluteTolerance), "training moved the parameters far beyond the tolerance");
        TestContext.Out.WriteLine($"{compared} tensors; largest |Δ| {worst:G3}" + (initial is null ? "" : $"; largest change from the start {travelled:G3}"));
    }

    /// <summary>Images of 8×8 whose bright 4×4 quadrant is the class (4 classes), plus noise; deterministic in the seed.</summary>
    private static void WriteSplit(string dir, int count, string prefix, int seed)
    {
        var rng = new Random(seed);
        var images = new byte[count * 64];
        var labels = new byte[count];
        for (int s = 0; s < count; s++)
        {
            int label = rng.Next(4);
            labels[s] = (byte)label;
            for (int p = 0; p < 64; p++)
            {
                int r = p / 8, c = p % 8;
                bool bright = (r < 4 ? 0 : 2) + (c < 4 ? 0 : 1) == label;
                images[s * 64 + p] = (byte)((bright ? 150 : 0) + rng.Next(100));
            }
        }
        IdxTestFiles.Write(dir, prefix == "train" ? DatasetLoader.TrainImagesFile : DatasetLoader.TestImagesFile, IdxTestFiles.Encode([count, 8, 8], images), gzip: false);
        IdxTestFiles.Write(dir, prefix == "train" ? DatasetLoader.TrainLabelsFile : DatasetLoader.TestLabelsFile, IdxTestFiles.Encode([count], labels), gzip: false);
    }

    private static string? FindOnPath(string name)
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, name);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }
}
