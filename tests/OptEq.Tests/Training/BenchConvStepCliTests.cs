using System.Text.Json;
using NUnit.Framework;

namespace OptEq.Tests.Training;

/// <summary><c>opteq bench step --model conv-mon | conv-opteq</c> at tiny shapes through the command line (no timing assertions).</summary>
[NonParallelizable]
public class BenchConvStepCliTests
{
    private static (int Exit, string Error, string Output) Run(params string[] args)
    {
        var (exit, output, error) = InProcessCli.Run(args);
        return (exit, error, output);
    }

    [TestCase("conv-mon")]
    [TestCase("conv-opteq")]
    public void TimesTheConvStepBesideThePeer(string model)
    {
        var (exit, error, output) = Run("bench", "step", "--model", model, "--batch", "4", "--image-size", "6", "--channels", "2",
            "--iterations", "3", "--steps", "2", "--peer-steps", "1", "--padding", "circular", "--json");
        Assert.That(exit, Is.Zero, error);
        using var doc = JsonDocument.Parse(output.Trim().Split('\n').Last());
        var root = doc.RootElement;
        Assert.That(root.GetProperty("model").GetString(), Is.EqualTo(model));
        Assert.That(root.GetProperty("ms_per_step").GetDouble(), Is.GreaterThan(0));
        // conv-mon: 6×6 image, stride-2 injection → 3×3 state, 2 channels, 2×2 pooling → 2·1·1 features:
        // U 2·9 + b 2, A and B 2·2·9 each, head 2·10 + 10.
        if (model == "conv-mon") Assert.That(root.GetProperty("parameters").GetInt64(), Is.EqualTo(18 + 2 + 36 + 36 + 20 + 10));
        Assert.That(root.GetProperty("shape").GetString(), Does.Contain("3 forward + 3 adjoint iterations").And.Contain("circular"));
        // The peer ran where Debian's PyTorch is installed; elsewhere the description says why not.
        var peer = root.GetProperty("peer").GetString()!;
        if (root.GetProperty("peer_ms_per_step").ValueKind == JsonValueKind.Null)
            Assert.That(peer, Does.Contain("PyTorch").Or.Contain("peer"), peer);
        else
            Assert.That(root.GetProperty("speedup_over_peer").GetDouble(), Is.GreaterThan(0));
    }

    [Test]
    public void AnUnknownModelIsAClearError()
    {
        var (exit, error, _) = Run("bench", "step", "--model", "nope", "--steps", "1", "--peer-steps", "0");
        Assert.That(exit, Is.Not.Zero);
        Assert.That(error, Does.Contain("--model").And.Contain("conv-mon"));
    }

    [TestCase("auto", "blocked")] // 2 channels on the CPU
    [TestCase("convs", "convs")]
    [TestCase("blocked", "blocked")]
    [TestCase("fourier", "fourier")]
    public void TimesConvOptEqWithEachWtwMethod(string gram, string resolved)
    {
        var (exit, error, output) = Run("bench", "step", "--model", "conv-opteq", "--batch", "4", "--image-size", "6", "--channels", "2",
            "--iterations", "3", "--steps", "2", "--peer-steps", "0", "--padding", "circular", "--gram", gram, "--json");
        Assert.That(exit, Is.Zero, error);
        using var doc = JsonDocument.Parse(output.Trim().Split('\n').Last());
        Assert.That(doc.RootElement.GetProperty("gram").GetString(), Is.EqualTo(resolved));
        Assert.That(doc.RootElement.GetProperty("shape").GetString(), Does.Contain($"WᵀW {resolved}"));
    }

    [TestCase("conv-opteq", "fft", "zero", "--gram must be one of auto|convs|blocked|fourier")]
    [TestCase("conv-opteq", "fourier", "zero", "--gram fourier needs --padding circular")]
    [TestCase("conv-mon", "blocked", "circular", "--gram is a conv-opteq setting")]
    public void ABadGramIsAClearError(string model, string gram, string padding, string message)
    {
        var (exit, error, _) = Run("bench", "step", "--model", model, "--gram", gram, "--padding", padding, "--steps", "1", "--peer-steps", "0");
        Assert.That(exit, Is.Not.Zero);
        Assert.That(error, Does.Contain(message));
        Assert.That(error, Does.Not.Contain("   at "), "no stack trace");
    }

    [Test]
    public void APeerOnCudaRunsThereOrSaysWhyNot()
    {
        // Where PyTorch sees no CUDA GPU (every CI machine) the peer column says why; on a GPU machine it names the GPU.
        var (exit, error, output) = Run("bench", "step", "--model", "conv-opteq", "--batch", "4", "--image-size", "6", "--channels", "2",
            "--iterations", "2", "--steps", "1", "--peer-steps", "1", "--peer-device", "cuda", "--json");
        Assert.That(exit, Is.Zero, error);
        using var doc = JsonDocument.Parse(output.Trim().Split('\n').Last());
        var root = doc.RootElement;
        var peer = root.GetProperty("peer").GetString()!;
        if (root.GetProperty("peer_ms_per_step").ValueKind == JsonValueKind.Null)
            Assert.That(peer, Does.Contain("CUDA").Or.Contain("not installed"), peer);
        else
            Assert.That(peer, Does.Contain("PyTorch").And.Not.Contain("threads"), peer);

        (exit, error, _) = Run("bench", "step", "--peer-device", "cuda", "--steps", "1", "--peer-steps", "0");
        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.Contain("--peer-device cuda").And.Contain("dense"));
    }
}
