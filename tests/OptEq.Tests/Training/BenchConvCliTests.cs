using System.Text.Json;
using NUnit.Framework;

namespace OptEq.Tests.Training;

/// <summary><c>opteq bench conv</c> through the command line on tiny shapes: the JSON rows, the table, the peer column and bad options (no timing assertions).</summary>
[NonParallelizable]
public class BenchConvCliTests
{
    private static (int Exit, string Error, string Output) Run(params string[] args)
    {
        var (exit, output, error) = InProcessCli.Run(args);
        return (exit, error, output);
    }

    [Test]
    public void PrintsOneJsonObjectPerShapeAndPassWithThePeerColumnWhereverPyTorchIs()
    {
        var (exit, error, output) = Run("bench", "conv", "--json", "--shapes", "3x6x5->4:3x3/s2/p1c", "pool:2x4x4/k2/s2", "--batch", "3", "-r", "3", "--warmup", "1");
        Assert.That(exit, Is.Zero, error);
        var rows = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.That(rows.Select(r => (r.GetProperty("shape").GetString(), r.GetProperty("pass").GetString())), Is.EqualTo(new[]
        {
            ("3x6x5->4:3x3/s2/p1c", "forward"), ("3x6x5->4:3x3/s2/p1c", "backward-input"), ("3x6x5->4:3x3/s2/p1c", "backward-weight"),
            ("pool:2x4x4/k2/s2", "forward"), ("pool:2x4x4/k2/s2", "backward"),
        }));
        bool peer = !error.Contains("no PyTorch peer");
        foreach (var r in rows)
        {
            Assert.That(r.GetProperty("bench").GetString(), Is.EqualTo("conv"));
            Assert.That(r.GetProperty("rounds").GetInt32(), Is.EqualTo(3), "-r 3: three rounds of one call a side (the default 3 rounds)");
            Assert.That(r.GetProperty("ms").GetDouble(), Is.GreaterThan(0));
            if (peer)
            {
                Assert.That(r.GetProperty("torch_ms").GetDouble(), Is.GreaterThan(0));
                Assert.That(r.GetProperty("ratio").GetDouble(), Is.GreaterThan(0), "ratio = PyTorch ms / opteq ms");
            }
            else
            {
                Assert.That(r.GetProperty("torch_ms").ValueKind, Is.EqualTo(JsonValueKind.Null));
                Assert.That(r.GetProperty("ratio").ValueKind, Is.EqualTo(JsonValueKind.Null));
            }
        }
    }

    [Test]
    public void WithoutThePeerTheTableSaysSoAndTheCommandSucceeds()
    {
        var (exit, error, output) = Run("bench", "conv", "--no-peer", "--shapes", "1×1×1→2:1×1/s1/p0", "--batch", "2", "-r", "1", "--warmup", "0");
        Assert.That(exit, Is.Zero, error);
        Assert.That(output, Does.Contain("no PyTorch peer (--no-peer)").And.Contain("1x1x1->2:1x1/s1/p0"));
        var forward = output.Split('\n').Single(l => l.Contains(" forward "));
        Assert.That(forward.TrimEnd(), Does.EndWith("-"), "the PyTorch and ratio columns are empty without a peer");
    }

    [Test]
    public void BadShapesAndOptionsAreUsageErrors()
    {
        var (exit, error, _) = Run("bench", "conv", "--no-peer", "--shapes", "3x5x5->4:7x7/s1/p0");
        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.Contain("shape '3x5x5->4:7x7/s1/p0'").And.Contain("larger than the 5×5 image"));
        (exit, error, _) = Run("bench", "conv", "--no-peer", "--shapes", "conv3x3");
        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.Contain("neither a convolution"));
        (exit, error, _) = Run("bench", "conv", "--no-peer", "--repetitions", "0");
        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.Contain("--repetitions must be at least 1"));
        (exit, error, _) = Run("bench", "conv", "--no-peer", "--rounds", "0");
        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.Contain("--rounds must be at least 1"));
    }

    [Test]
    public void APeerOnCudaRunsThereOrSaysWhyNot()
    {
        // Where PyTorch sees no CUDA GPU (every CI machine) the note says so and opteq is timed alone; on a GPU machine
        // the peer's rows name the device it ran on.
        var (exit, error, output) = Run("bench", "conv", "--json", "--peer-device", "cuda", "--shapes", "2x5x5->3:3x3/s1/p1", "--batch", "2", "-r", "1", "--warmup", "0");
        Assert.That(exit, Is.Zero, error);
        var rows = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.That(rows, Has.Length.EqualTo(3));
        if (error.Contains("no PyTorch peer"))
        {
            Assert.That(error, Does.Contain("CUDA").Or.Contain("not installed"), error);
            Assert.That(rows.All(r => r.GetProperty("torch_ms").ValueKind == JsonValueKind.Null && r.GetProperty("peer_device").ValueKind == JsonValueKind.Null));
        }
        else
            Assert.That(rows.All(r => r.GetProperty("peer_device").GetString() == "cuda" && r.GetProperty("torch_ms").GetDouble() > 0));

        (exit, error, _) = Run("bench", "conv", "--peer-device", "tpu");
        Assert.That(exit, Is.Not.Zero);
        Assert.That(error, Does.Contain("tpu").And.Contain("--peer-device"));
    }
}
