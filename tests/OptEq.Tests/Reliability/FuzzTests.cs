using NUnit.Framework;
using OptEq.Kernels.Native;
using System.Diagnostics;
using OptEq.Autodiff.Checkpoints;
using OptEq.Autodiff.Data;
using OptEq.Autodiff.Models;
using OptEq.Tests.Data;

namespace OptEq.Tests.Reliability;

/// <summary>
/// Mutation fuzzing of every reader of untrusted files: thousands of mutated copies of a valid file per test (fixed
/// seeds, so a failure reproduces), each of which must either load — and then be self-consistent — or fail with the
/// project's <see cref="InputException"/> naming the file. Any other exception is a failure; so is a read that does
/// not finish (the whole loop runs under a deadline). Each test stops after its time budget, having run at least
/// <see cref="MinimumCases"/> cases, and prints its counts.
/// </summary>
[TestFixture]
public class FuzzTests
{
    private const int MinimumCases = 2000, MaximumCases = 20000;
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(8), Deadline = TimeSpan.FromSeconds(120);

    private TempDirectory _dir = null!;
    [SetUp] public void MakeDirectory() => _dir = new TempDirectory();
    [TearDown] public void RemoveDirectory() => _dir.Dispose();

    private static byte[] SmallImages()
    {
        var pixels = new byte[5 * 4 * 3];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)(i * 37);
        return IdxTestFiles.Encode([5, 4, 3], pixels);
    }

    [Test]
    public void IdxReader() => Fuzz("IDX", SmallImages(), seed: 11, path => Consistent(global::OptEq.Autodiff.Data.IdxReader.Read(path)));

    [Test]
    public void GzippedIdxReader() => Fuzz("gzip IDX", IdxTestFiles.Gzip(SmallImages()), seed: 12, path => Consistent(global::OptEq.Autodiff.Data.IdxReader.Read(path)));

    [Test]
    public void SafetensorsReader()
    {
        var file = new SafetensorsFile();
        file.Metadata["note"] = "fuzz";
        file.Add(SafetensorsTensor.FromValues<float>("a", [1f, 2f, 3f, 4f, 5f, 6f], 2, 3));
        file.Add(SafetensorsTensor.FromValues<double>("b", [7.0, 8.0], 2));
        file.Add(SafetensorsTensor.FromValues<int>("c", [], 0, 4));
        string valid = _dir.File("valid.safetensors");
        SafetensorsWriter.Write(valid, file);
        Fuzz("safetensors", File.ReadAllBytes(valid), seed: 13, path =>
        {
            var read = global::OptEq.Autodiff.Checkpoints.SafetensorsReader.Read(path);
            foreach (var t in read.Tensors)
                Assert.That(t.Data.LongLength, Is.EqualTo(t.Shape.Aggregate(1L, (a, d) => a * d) * t.DType.Size()), "a loaded tensor's bytes match its shape");
        });
    }

    /// <summary>A whole checkpoint through <see cref="ModelCheckpoint.Load"/>: header, metadata, configuration, values, model.</summary>
    [Test]
    public void CheckpointLoader()
    {
        using var device = new NativeCpuDevice();
        var config = new ModelConfig { Input = 12, Classes = 3, Hidden = 4, Seed = 1 };
        string valid = _dir.File("valid.safetensors");
        using (var model = new Classifier<float>(device, config))
        {
            var checkpoint = new Checkpoint(config.ToJson()) { Epoch = 2, Step = 10 };
            checkpoint.AddParameters(model.Parameters());
            checkpoint.Save(valid);
        }
        Fuzz("checkpoint", File.ReadAllBytes(valid), seed: 14, path =>
        {
            using var loaded = ModelCheckpoint.Load(device, path);
            Assert.That(loaded.Parameters().SelectMany(p => p.Value.ToArray()).All(float.IsFinite), "a loaded model's parameters are finite");
        }, minimum: 500);
    }

    private static void Consistent(IdxArray array) =>
        Assert.That(array.Data.LongLength, Is.EqualTo(array.Dimensions.Aggregate(1L, (a, d) => a * d)), "a loaded IDX array's data matches its dimensions");

    private void Fuzz(string what, byte[] valid, int seed, Action<string> load, int minimum = MinimumCases)
    {
        string path = _dir.File("mutant");
        File.WriteAllBytes(path, valid);
        load(path); // the unmutated file loads

        var mutator = new Mutator(seed);
        int cases = 0, loaded = 0, rejected = 0;
        var clock = Stopwatch.StartNew();
        Exception? wrong = null;
        byte[]? culprit = null;
        var run = Task.Run(() =>
        {
            while (cases < MaximumCases && (cases < minimum || clock.Elapsed < Budget))
            {
                var mutant = mutator.Mutate(valid);
                File.WriteAllBytes(path, mutant);
                cases++;
                try
                {
                    load(path);
                    loaded++;
                }
                catch (InputException e) when (e.Message.StartsWith(path, StringComparison.Ordinal))
                {
                    rejected++;
                }
                catch (Exception e)
                {
                    (wrong, culprit) = (e, mutant);
                    return;
                }
            }
        });
        Assert.That(run.Wait(Deadline), Is.True, $"{what}: a read did not finish within {Deadline.TotalSeconds} s (a hang) at case {cases}");
        TestContext.Out.WriteLine($"{what}: {cases} mutated inputs in {clock.Elapsed.TotalSeconds:F1} s: {loaded} loaded, {rejected} clear errors, 0 other exceptions, 0 hangs");
        Assert.That(wrong, Is.Null, $"{what}: case {cases} threw {wrong?.GetType().Name}: {wrong?.Message}\nbytes: {(culprit is null ? "" : Convert.ToHexString(culprit))}");
        Assert.That(cases, Is.GreaterThanOrEqualTo(minimum));
        Assert.That(rejected, Is.GreaterThan(cases / 2), "most mutations must be caught");
    }
}
