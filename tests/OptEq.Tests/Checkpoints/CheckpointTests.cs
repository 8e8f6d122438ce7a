using System.Numerics;
using NUnit.Framework;
using OptEq.Autodiff;
using OptEq.Autodiff.Checkpoints;
using OptEq.Kernels;
using OptEq.Kernels.Native;
using OptEq.Tests.Data;

namespace OptEq.Tests.Checkpoints;

public class CheckpointTests
{
    private NativeCpuDevice _device = null!;

    [OneTimeSetUp] public void Open() => _device = new NativeCpuDevice();
    [OneTimeTearDown] public void Close() => _device.Dispose();

    private const string Config = """{"model":"optEq","hidden":87,"activation":"relu","rho":0.9}""";

    /// <summary>Parameters of a small model: W [hidden, 784] and b [hidden], filled from <paramref name="seed"/> (or zero).</summary>
    private List<Parameter<float>> Model(int hidden, int? seed)
    {
        var rng = seed is int s ? new Random(s) : null;
        Tensor<float> Make(params int[] shape)
        {
            var t = _device.Allocate<float>(shape);
            if (rng is not null) t.CopyFrom(Enumerable.Range(0, (int)t.Length).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray());
            return t;
        }
        return [new Parameter<float>("layer.W", Make(hidden, 784)), new Parameter<float>("layer.b", Make(hidden))];
    }

    private static void DisposeAll<T>(IEnumerable<Parameter<T>> ps) where T : unmanaged, IFloatingPointIeee754<T>
    {
        foreach (var p in ps) p.Dispose();
    }

    [Test]
    public void RoundTripRestoresParametersStateAndMetadata()
    {
        using var dir = new TempDirectory();
        string path = dir.File("model.safetensors");
        var model = Model(87, seed: 1);
        using var moment = _device.FromArray<float>([0.5f, -0.25f, 1e-8f], 3);
        try
        {
            var saved = new Checkpoint(Config) { Epoch = 3, Step = 1407 };
            saved.Seeds["data"] = 42;
            saved.Seeds["init"] = -7;
            saved.Metadata["note"] = "run 12";
            saved.AddParameters(model);
            saved.AddGroup(Checkpoint.OptimizerGroup, [("adam.m", moment)]);
            saved.Save(path);

            var loaded = Checkpoint.Load(path);
            Assert.That(loaded.Source, Is.EqualTo(path));
            Assert.That(loaded.Config, Is.EqualTo(Config));
            Assert.That((loaded.Epoch, loaded.Step), Is.EqualTo((3L, 1407L)));
            Assert.That(loaded.Seeds, Is.EquivalentTo(saved.Seeds));
            Assert.That(loaded.Metadata, Is.EquivalentTo(saved.Metadata));
            Assert.That(loaded.Tensors.Select(t => t.Name), Is.EqualTo(new[] { "model.layer.W", "model.layer.b", "optimizer.adam.m" }));

            var fresh = Model(87, seed: null);
            using var freshMoment = _device.Allocate<float>(3);
            try
            {
                loaded.RestoreParameters(fresh);
                loaded.RestoreGroup(Checkpoint.OptimizerGroup, [("adam.m", freshMoment)]);
                for (int i = 0; i < model.Count; i++)
                    Assert.That(fresh[i].Value.ToArray().Select(BitConverter.SingleToInt32Bits),
                        Is.EqualTo(model[i].Value.ToArray().Select(BitConverter.SingleToInt32Bits)), model[i].Name);
                Assert.That(freshMoment.ToArray(), Is.EqualTo(moment.ToArray()));
            }
            finally { DisposeAll(fresh); }

            // The reserved keys are in the file's metadata as strings.
            var raw = SafetensorsReader.Read(path).Metadata;
            Assert.That(raw[Checkpoint.FormatKey], Is.EqualTo("1"));
            Assert.That(raw[Checkpoint.ConfigKey], Is.EqualTo(Config));
            Assert.That(raw["opteq.epoch"], Is.EqualTo("3"));
            Assert.That(raw["opteq.step"], Is.EqualTo("1407"));
            Assert.That(raw["opteq.seed.init"], Is.EqualTo("-7"));
        }
        finally { DisposeAll(model); }
    }

    [Test]
    public void DoubleParametersRoundTrip()
    {
        using var dir = new TempDirectory();
        string path = dir.File("d.safetensors");
        using var p = new Parameter<double>("w", _device.FromArray<double>([Math.PI, -0.0, double.Epsilon], 3));
        var c = new Checkpoint();
        c.AddParameters([p]);
        c.Save(path);
        using var q = new Parameter<double>("w", _device.Allocate<double>(3));
        Checkpoint.Load(path).RestoreParameters([q]);
        Assert.That(q.Value.ToArray().Select(BitConverter.DoubleToInt64Bits), Is.EqualTo(p.Value.ToArray().Select(BitConverter.DoubleToInt64Bits)));
    }

    [Test]
    public void AnotherModelsCheckpointIsAClearError()
    {
        using var dir = new TempDirectory();
        string path = dir.File("small.safetensors");
        var small = Model(64, seed: 2);
        var big = Model(87, seed: 3);
        try
        {
            var c = new Checkpoint(Config);
            c.AddParameters(small);
            c.Save(path);
            var before = big[1].Value.ToArray();

            var e = Assert.Throws<InputException>(() => Checkpoint.Load(path).RestoreParameters(big))!;
            Assert.That(e.Message, Does.StartWith($"{path}: the checkpoint has parameter 'layer.W' of shape [64, 784], the model expects [87, 784]"));
            Assert.That(e.Message, Does.Contain("has parameter 'layer.b' of shape [64], the model expects [87]"));
            Assert.That(big[1].Value.ToArray(), Is.EqualTo(before), "nothing is copied when anything mismatches");
        }
        finally
        {
            DisposeAll(small);
            DisposeAll(big);
        }
    }

    [Test]
    public void MissingExtraAndDtypeMismatchesAreAllReported()
    {
        using var dir = new TempDirectory();
        string path = dir.File("c.safetensors");
        using var w = new Parameter<float>("layer.W", _device.Allocate<float>(2, 3));
        using var old = new Parameter<float>("old.scale", _device.Allocate<float>(4));
        var c = new Checkpoint();
        c.AddParameters([w, old]);
        c.Save(path);
        var loaded = Checkpoint.Load(path);

        using var b = new Parameter<float>("layer.b", _device.Allocate<float>(2));
        var e = Assert.Throws<InputException>(() => loaded.RestoreParameters([w, b]))!;
        Assert.That(e.Message, Does.StartWith($"{path}: the checkpoint "));
        Assert.That(e.Message, Does.Contain("has no parameter 'layer.b' (the model expects [2])"));
        Assert.That(e.Message, Does.Contain("has parameter 'old.scale' [4] that the model does not have"));

        using var wd = new Parameter<double>("layer.W", _device.Allocate<double>(2, 3));
        using var od = new Parameter<double>("old.scale", _device.Allocate<double>(4));
        Assert.That(() => loaded.RestoreParameters([wd, od]),
            Throws.TypeOf<InputException>().With.Message.Contains("has parameter 'layer.W' of dtype F32, the model expects F64"));

        // The optimizer group is separate: model tensors are not "extra" optimizer state, and vice versa.
        using var m = _device.Allocate<float>(3);
        Assert.That(() => loaded.RestoreGroup(Checkpoint.OptimizerGroup, [("adam.m", m)]),
            Throws.TypeOf<InputException>().With.Message.EqualTo($"{path}: the checkpoint has no tensor 'adam.m' (the caller expects [3])"));
    }

    [Test]
    public void NotAnOptEqCheckpoint()
    {
        using var dir = new TempDirectory();
        string path = dir.File("plain.safetensors");
        var plain = new SafetensorsFile();
        plain.Add<float>("w", [1], 1);
        SafetensorsWriter.Write(path, plain);
        Assert.That(() => Checkpoint.Load(path),
            Throws.TypeOf<InputException>().With.Message.EqualTo($"{path}: not an OptEq checkpoint: no 'opteq.format' metadata"));

        plain.Metadata[Checkpoint.FormatKey] = "2";
        SafetensorsWriter.Write(path, plain);
        Assert.That(() => Checkpoint.Load(path),
            Throws.TypeOf<InputException>().With.Message.EqualTo($"{path}: checkpoint format '2' is not supported (this build reads format 1)"));

        plain.Metadata[Checkpoint.FormatKey] = "1";
        plain.Metadata[Checkpoint.ConfigKey] = "{not json";
        plain.Metadata[Checkpoint.EpochKey] = "1";
        plain.Metadata[Checkpoint.StepKey] = "1";
        SafetensorsWriter.Write(path, plain);
        Assert.That(() => Checkpoint.Load(path),
            Throws.TypeOf<InputException>().With.Message.StartsWith($"{path}: metadata 'opteq.config' is not valid JSON"));

        plain.Metadata[Checkpoint.ConfigKey] = "{}";
        plain.Metadata[Checkpoint.StepKey] = "many";
        SafetensorsWriter.Write(path, plain);
        Assert.That(() => Checkpoint.Load(path),
            Throws.TypeOf<InputException>().With.Message.EqualTo($"{path}: metadata 'opteq.step' = 'many' is not an integer"));
    }

    [Test]
    public void InvalidInputIsRefusedBeforeWriting()
    {
        Assert.That(() => new Checkpoint("{oops"), Throws.ArgumentException.With.Message.Contains("not valid JSON"));
        var c = new Checkpoint();
        c.Metadata["opteq.epoch"] = "5";
        using var dir = new TempDirectory();
        Assert.That(() => c.Save(dir.File("x.safetensors")), Throws.ArgumentException.With.Message.Contains("reserved prefix"));
        Assert.That(Directory.GetFiles(dir.Path), Is.Empty);
        using var t = _device.Allocate<float>(1);
        Assert.That(() => c.AddGroup("a.b", [("x", t)]), Throws.ArgumentException.With.Message.Contains("must not contain '.'"));
    }

    [Test]
    public void InterruptedSaveKeepsThePreviousCheckpoint()
    {
        using var dir = new TempDirectory();
        string path = dir.File("ckpt.safetensors");
        new Checkpoint { Epoch = 1 }.Save(path);
        SafetensorsWriter.AfterHeaderForTesting = _ => throw new IOException("disk full (simulated)");
        try
        {
            Assert.That(() => new Checkpoint { Epoch = 2 }.Save(path), Throws.TypeOf<IOException>());
        }
        finally
        {
            SafetensorsWriter.AfterHeaderForTesting = null;
        }
        Assert.That(Checkpoint.Load(path).Epoch, Is.EqualTo(1));
        Assert.That(Directory.GetFiles(dir.Path), Is.EqualTo(new[] { path }));
    }
}
