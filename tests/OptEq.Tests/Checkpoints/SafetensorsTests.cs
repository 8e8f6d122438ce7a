using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using NUnit.Framework;
using OptEq.Autodiff.Checkpoints;
using OptEq.Tests.Data;

namespace OptEq.Tests.Checkpoints;

public class SafetensorsTests
{
    // Values whose bits must survive: signed zero, infinities, a NaN with a payload, subnormals, extremes.
    private static readonly float[] Floats =
        [0f, -0f, 1.5f, -2.25f, float.MaxValue, float.Epsilon, float.PositiveInfinity, float.NegativeInfinity,
         BitConverter.Int32BitsToSingle(0x7fc0_1234), 3.14159274f, -1e-38f, 65504f];
    private static readonly double[] Doubles = [Math.PI, -0.0, double.MinValue, double.Epsilon, BitConverter.Int64BitsToDouble(0x7ff8_0000_dead_beef), 1e300];
    private static readonly int[] Ints = [0, 1, -1, int.MaxValue, int.MinValue, 42];
    private static readonly long[] Longs = [long.MinValue, long.MaxValue, -3];

    /// <summary>A file with every written dtype, a scalar, an empty tensor and non-ASCII metadata.</summary>
    private static SafetensorsFile Sample()
    {
        var file = new SafetensorsFile();
        file.Metadata["note"] = "quotes \" and \\ and a newline\n, unicode: σ(Wz + Ux) ≤ 1";
        file.Metadata["empty"] = "";
        file.Add<float>("layer.W", Floats, 3, 4);
        file.Add<double>("layer.b", Doubles, 6);
        file.Add<int>("counts", Ints, 2, 1, 3);
        file.Add<long>("steps", Longs, 3);
        file.Add<float>("scalar", [7.5f]);
        file.Add<float>("empty", [], 0, 5);
        file.Add<float>("σ.scale", [2f], 1);
        return file;
    }

    [Test]
    public void RoundTripIsBitIdentical()
    {
        using var dir = new TempDirectory();
        string path = dir.File("a.safetensors");
        var written = Sample();
        SafetensorsWriter.Write(path, written);
        var read = SafetensorsReader.Read(path);

        Assert.That(read.Source, Is.EqualTo(path));
        Assert.That(read.Metadata, Is.EquivalentTo(written.Metadata));
        Assert.That(read.Tensors.Select(t => t.Name), Is.EqualTo(written.Tensors.Select(t => t.Name)), "file order is kept");
        foreach (var w in written.Tensors)
        {
            var r = read[w.Name];
            Assert.That(r.DType, Is.EqualTo(w.DType), w.Name);
            Assert.That(r.Shape, Is.EqualTo(w.Shape), w.Name);
            Assert.That(r.Data, Is.EqualTo(w.Data), w.Name);
        }
        // Bits, not values: NaN payloads and the sign of zero must come back.
        Assert.That(read["layer.W"].ToArray<float>().Select(BitConverter.SingleToInt32Bits), Is.EqualTo(Floats.Select(BitConverter.SingleToInt32Bits)));
        Assert.That(read["layer.b"].ToArray<double>().Select(BitConverter.DoubleToInt64Bits), Is.EqualTo(Doubles.Select(BitConverter.DoubleToInt64Bits)));
        Assert.That(read["counts"].ToArray<int>(), Is.EqualTo(Ints));
        Assert.That(read["steps"].ToArray<long>(), Is.EqualTo(Longs));
        Assert.That(read["scalar"].Shape, Is.Empty);
        Assert.That(read["empty"].Shape, Is.EqualTo(new[] { 0, 5 }));
        Assert.That(() => read["layer.W"].ToArray<double>(), Throws.InvalidOperationException.With.Message.Contains("F32, not F64"));
    }

    /// <summary>An independent parse of the bytes: length prefix, JSON header, offsets, little-endian values.</summary>
    [Test]
    public void LayoutFollowsTheSpec()
    {
        using var dir = new TempDirectory();
        string path = dir.File("layout.safetensors");
        SafetensorsWriter.Write(path, Sample());
        byte[] blob = File.ReadAllBytes(path);

        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(blob);
        Assert.That(n % 8, Is.Zero, "the header is padded so that the data starts 8-byte aligned");
        byte[] headerBytes = blob[8..(8 + (int)n)];
        Assert.That(headerBytes[0], Is.EqualTo((byte)'{'));
        string headerText = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(headerBytes);
        Assert.That(headerText.TrimEnd(' '), Does.EndWith("}"), "only spaces pad the header");
        using var header = JsonDocument.Parse(headerText);
        var root = header.RootElement;
        int dataStart = 8 + (int)n;

        var metadata = root.GetProperty("__metadata__");
        Assert.That(metadata.GetProperty("note").GetString(), Is.EqualTo(Sample().Metadata["note"]));

        var tensors = root.EnumerateObject().Where(p => p.Name != "__metadata__")
            .Select(p => (p.Name, Dtype: p.Value.GetProperty("dtype").GetString()!,
                          Shape: p.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray(),
                          Begin: p.Value.GetProperty("data_offsets")[0].GetInt64(), End: p.Value.GetProperty("data_offsets")[1].GetInt64()))
            .OrderBy(t => t.Begin).ToList();
        Assert.That(tensors.Select(t => t.Name), Is.EquivalentTo(Sample().Tensors.Select(t => t.Name)));
        long position = 0;
        foreach (var t in tensors)
        {
            Assert.That(t.Begin, Is.EqualTo(position), $"{t.Name} follows the previous tensor without a hole");
            int size = t.Dtype switch { "F32" or "I32" => 4, "F64" or "I64" => 8, _ => throw new AssertionException($"unexpected dtype {t.Dtype}") };
            Assert.That(t.End - t.Begin, Is.EqualTo(t.Shape.Aggregate(1L, (a, d) => a * d) * size), t.Name);
            position = t.End;
        }
        Assert.That(dataStart + position, Is.EqualTo(blob.Length), "the tensors cover the data buffer exactly");

        // The values themselves, decoded as little-endian from their offsets.
        var w = tensors.Single(t => t.Name == "layer.W");
        Assert.That(w.Dtype, Is.EqualTo("F32"));
        Assert.That(w.Shape, Is.EqualTo(new[] { 3, 4 }));
        for (int i = 0; i < Floats.Length; i++)
            Assert.That(BinaryPrimitives.ReadInt32LittleEndian(blob.AsSpan(dataStart + (int)w.Begin + 4 * i)), Is.EqualTo(BitConverter.SingleToInt32Bits(Floats[i])));
        var steps = tensors.Single(t => t.Name == "steps");
        Assert.That(steps.Dtype, Is.EqualTo("I64"));
        for (int i = 0; i < Longs.Length; i++)
            Assert.That(BinaryPrimitives.ReadInt64LittleEndian(blob.AsSpan(dataStart + (int)steps.Begin + 8 * i)), Is.EqualTo(Longs[i]));
    }

    /// <summary>The same file decoded by a standard-library python3 script, when python3 is on PATH.</summary>
    [Test]
    public void PythonDecodesTheFile()
    {
        string? python = PythonSafetensorsCheck.FindPython();
        if (python is null) Assert.Ignore("python3 is not on PATH; the C# layout test still checks the format");

        using var dir = new TempDirectory();
        string path = dir.File("py.safetensors"), script = dir.File("check.py");
        File.WriteAllText(script, PythonSafetensorsCheck.Script);
        var file = Sample();
        SafetensorsWriter.Write(path, file);

        var (code, stdout, stderr) = PythonSafetensorsCheck.Run(python!, script, path);
        Assert.That(code, Is.Zero, $"python3 failed: {stderr}");
        using var result = JsonDocument.Parse(stdout);
        var root = result.RootElement;
        Assert.That(root.GetProperty("header_length").GetInt64(), Is.EqualTo(BinaryPrimitives.ReadInt64LittleEndian(File.ReadAllBytes(path))));
        var metadata = root.GetProperty("metadata").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
        Assert.That(metadata, Is.EquivalentTo(file.Metadata));

        var decoded = root.GetProperty("tensors").EnumerateArray().ToList();
        Assert.That(decoded.Select(t => t.GetProperty("name").GetString()), Is.EqualTo(file.Tensors.Select(t => t.Name)), "python sees the same tensors in offset order");
        foreach (var t in decoded)
        {
            var expected = file[t.GetProperty("name").GetString()!];
            Assert.That(t.GetProperty("dtype").GetString(), Is.EqualTo(expected.DType.ToString()));
            Assert.That(t.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()), Is.EqualTo(expected.Shape));
            Assert.That(t.GetProperty("sha256").GetString(), Is.EqualTo(Convert.ToHexStringLower(SHA256.HashData(expected.Data))), expected.Name);
            Assert.That(t.GetProperty("sum_bits").GetString(), Is.EqualTo(SumBits(expected)), $"{expected.Name}: python decodes the same values");
        }
    }

    /// <summary>The float64 sum of the finite values in order, as the hex of its little-endian bytes (what the script prints).</summary>
    private static string SumBits(SafetensorsTensor t)
    {
        IEnumerable<double> values = t.DType switch
        {
            SafetensorsDType.F32 => t.ToArray<float>().Select(v => (double)v),
            SafetensorsDType.F64 => t.ToArray<double>(),
            SafetensorsDType.I32 => t.ToArray<int>().Select(v => (double)v),
            SafetensorsDType.I64 => t.ToArray<long>().Select(v => (double)v),
            _ => throw new AssertionException($"unexpected dtype {t.DType}"),
        };
        double total = 0;
        foreach (double v in values)
            if (double.IsFinite(v)) total += v;
        var bytes = new byte[8];
        BinaryPrimitives.WriteDoubleLittleEndian(bytes, total);
        return Convert.ToHexStringLower(bytes);
    }

    // ---- interrupted writes ------------------------------------------------------------------------------------

    [Test]
    public void InterruptedWriteLeavesThePreviousFileIntact()
    {
        using var dir = new TempDirectory();
        string path = dir.File("ckpt.safetensors");
        var first = new SafetensorsFile();
        first.Add<float>("w", [1, 2, 3], 3);
        SafetensorsWriter.Write(path, first);
        byte[] before = File.ReadAllBytes(path);

        var second = new SafetensorsFile();
        second.Add<float>("w", [4, 5, 6, 7], 4);
        string? tempSeen = null;
        SafetensorsWriter.AfterHeaderForTesting = temp =>
        {
            tempSeen = temp;
            throw new IOException("simulated failure mid-write");
        };
        try
        {
            Assert.That(() => SafetensorsWriter.Write(path, second), Throws.TypeOf<IOException>().With.Message.EqualTo("simulated failure mid-write"));
        }
        finally
        {
            SafetensorsWriter.AfterHeaderForTesting = null;
        }

        Assert.That(tempSeen, Does.StartWith(path + ".tmp-"), "the write went to a temporary sibling");
        Assert.That(File.ReadAllBytes(path), Is.EqualTo(before), "the previous file is untouched");
        Assert.That(SafetensorsReader.Read(path)["w"].ToArray<float>(), Is.EqualTo(new float[] { 1, 2, 3 }));
        Assert.That(Directory.GetFiles(dir.Path), Is.EqualTo(new[] { path }), "the temporary file was removed");

        // Without the failure the same write replaces the file.
        SafetensorsWriter.Write(path, second);
        Assert.That(SafetensorsReader.Read(path)["w"].ToArray<float>(), Is.EqualTo(new float[] { 4, 5, 6, 7 }));
        Assert.That(Directory.GetFiles(dir.Path), Is.EqualTo(new[] { path }));
    }

    [Test]
    public void WriteIntoAMissingDirectoryFailsWithoutLeftovers()
    {
        using var dir = new TempDirectory();
        string path = Path.Combine(dir.Path, "missing", "x.safetensors");
        Assert.That(() => SafetensorsWriter.Write(path, Sample()), Throws.InstanceOf<DirectoryNotFoundException>());
        Assert.That(Directory.GetFileSystemEntries(dir.Path), Is.Empty);
    }

    // ---- invalid tensors are refused when built ----------------------------------------------------------------

    [Test]
    public void InvalidTensorsAreRefused()
    {
        var file = new SafetensorsFile();
        file.Add<float>("a", [1, 2], 2);
        Assert.That(() => file.Add<float>("a", [1], 1), Throws.ArgumentException.With.Message.Contains("duplicate tensor name 'a'"));
        Assert.That(() => SafetensorsTensor.FromValues<float>("b", [1, 2, 3], 2, 2), Throws.ArgumentException.With.Message.Contains("needs 16 bytes, got 12"));
        Assert.That(() => SafetensorsTensor.FromValues<float>("__metadata__", [1], 1), Throws.ArgumentException.With.Message.Contains("reserved"));
        Assert.That(() => SafetensorsTensor.FromValues<float>("", [1], 1), Throws.ArgumentException);
        Assert.That(() => file["nope"], Throws.TypeOf<KeyNotFoundException>().With.Message.Contains("'nope'"));
    }

    // ---- corrupt files: each an InputException naming the file ---------------------------------------------

    /// <summary>Writes a length prefix, the header text exactly as given (no padding) and the data bytes.</summary>
    private static string Raw(TempDirectory dir, string header, byte[] data, ulong? headerLength = null)
    {
        string path = dir.File("corrupt.safetensors");
        byte[] h = Encoding.UTF8.GetBytes(header);
        var blob = new byte[8 + h.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(blob, headerLength ?? (ulong)h.Length);
        h.CopyTo(blob, 8);
        data.CopyTo(blob, 8 + h.Length);
        File.WriteAllBytes(path, blob);
        return path;
    }

    private static void Corrupt(string path, string expected)
    {
        var e = Assert.Throws<InputException>(() => SafetensorsReader.Read(path))!;
        Assert.That(e.Message, Does.StartWith(path + ": "), "the message names the file");
        Assert.That(e.Message, Does.Contain(expected));
    }

    private const string Two = """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"I32","shape":[1],"data_offsets":[8,12]}}""";

    [Test]
    public void HandWrittenFileReads()
    {
        // The helper below writes valid files too; this is the baseline the corruptions change one thing of.
        using var dir = new TempDirectory();
        var file = SafetensorsReader.Read(Raw(dir, Two + "   ", new byte[12]));
        Assert.That(file.Tensors.Select(t => t.Name), Is.EqualTo(new[] { "a", "b" }));
    }

    [Test]
    public void TruncatedData()
    {
        using var dir = new TempDirectory();
        string path = dir.File("t.safetensors");
        SafetensorsWriter.Write(path, Sample());
        byte[] blob = File.ReadAllBytes(path);
        File.WriteAllBytes(path, blob[..^3]);
        Corrupt(path, "reach past the end of the");
        Corrupt(path, "truncated file?");
    }

    [Test]
    public void TooShortForTheLength()
    {
        using var dir = new TempDirectory();
        string path = dir.File("short.safetensors");
        File.WriteAllBytes(path, [1, 2, 3]);
        Corrupt(path, "truncated: 3 bytes, too short for the 8-byte header length");
    }

    [Test]
    public void HeaderLengthBeyondTheFile()
    {
        using var dir = new TempDirectory();
        Corrupt(Raw(dir, Two, new byte[12], headerLength: 1_000_000), "header length 1000000 exceeds the");
        Corrupt(Raw(dir, Two, new byte[12], headerLength: ulong.MaxValue), $"header length {ulong.MaxValue} exceeds the");
    }

    [Test]
    public void HeaderLengthOverTheLimit()
    {
        using var dir = new TempDirectory();
        string path = dir.File("huge.safetensors");
        using (var f = File.Create(path))
        {
            var length = new byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, 200_000_000);
            f.Write(length);
            f.SetLength(8 + 200_000_000L); // sparse: the length fits the file but is over the limit
        }
        Corrupt(path, "header length 200000000 is over the 100000000-byte limit");
    }

    [Test]
    public void BadJson()
    {
        using var dir = new TempDirectory();
        Corrupt(Raw(dir, """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}""", new byte[8]), "the header is not valid JSON");
        Corrupt(Raw(dir, """{"a":{"dtype":"F32",}}""", []), "the header is not valid JSON");
        Corrupt(Raw(dir, """ {"a":1}""", []), "the header does not start with '{'");
        Corrupt(Raw(dir, "", []), "the header does not start with '{'");
        Corrupt(Raw(dir, """{"a":[1]}""", []), "tensor 'a': expected an object");
        Corrupt(Raw(dir, """{"a":{"dtype":"F32","shape":[1]}}""", new byte[4]), "tensor 'a': needs dtype, shape and data_offsets");
        Corrupt(Raw(dir, """{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"extra":1}}""", new byte[4]), "unexpected field 'extra'");
        Corrupt(Raw(dir, """{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}""", new byte[4]), "shape entry -1 is not a dimension");
        Corrupt(Raw(dir, """{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}""", new byte[4]), "shape entry 1.5 is not a dimension");
        Corrupt(Raw(dir, """{"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}}""", new byte[4]), "data_offsets must be an array [begin, end]");
        Corrupt(Raw(dir, """{"__metadata__":{"k":1}}""", []), "metadata 'k' must be a string");
        Corrupt(Raw(dir, """{"__metadata__":"k"}""", []), "'__metadata__' must be an object of strings");
    }

    [Test]
    public void InvalidUtf8InTheHeader()
    {
        using var dir = new TempDirectory();
        string path = Raw(dir, """{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", new byte[4]);
        byte[] blob = File.ReadAllBytes(path);
        blob[10] = 0xff; // inside the name "a"'s quotes
        File.WriteAllBytes(path, blob);
        Corrupt(path, "the header is not valid UTF-8");
    }

    [Test]
    public void UnknownDtype()
    {
        using var dir = new TempDirectory();
        Corrupt(Raw(dir, """{"a":{"dtype":"F17","shape":[1],"data_offsets":[0,4]}}""", new byte[4]), "tensor 'a': unknown or unsupported dtype 'F17'");
        // Case matters, and a number is not an enum name.
        Corrupt(Raw(dir, """{"a":{"dtype":"f32","shape":[1],"data_offsets":[0,4]}}""", new byte[4]), "unknown or unsupported dtype 'f32'");
        Corrupt(Raw(dir, """{"a":{"dtype":"3","shape":[1],"data_offsets":[0,4]}}""", new byte[4]), "unknown or unsupported dtype '3'");
    }

    [Test]
    public void ShapeDoesNotMatchTheOffsets()
    {
        using var dir = new TempDirectory();
        Corrupt(Raw(dir, """{"a":{"dtype":"F64","shape":[2],"data_offsets":[0,8]}}""", new byte[8]),
            "tensor 'a': shape [2] of F64 needs 16 bytes, but data_offsets [0, 8] span 8");
    }

    [Test]
    public void OverlappingOffsets()
    {
        using var dir = new TempDirectory();
        Corrupt(Raw(dir, """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"I32","shape":[1],"data_offsets":[4,8]}}""", new byte[8]),
            "tensor 'b': data_offsets [4, 8] overlap tensor 'a' [0, 8]");
    }

    [Test]
    public void OffsetsOutOfRange()
    {
        using var dir = new TempDirectory();
        Corrupt(Raw(dir, """{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}""", new byte[8]),
            "tensor 'a': data_offsets [8, 16] reach past the end of the 8-byte data buffer");
        Corrupt(Raw(dir, """{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}}""", new byte[8]), "end before they begin");
        Corrupt(Raw(dir, """{"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}""", new byte[8]), "data offset -4 is not a non-negative integer");
    }

    [Test]
    public void HoleAndTrailingBytes()
    {
        using var dir = new TempDirectory();
        Corrupt(Raw(dir, """{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", new byte[8]),
            "bytes [0, 4) of the data buffer belong to no tensor");
        Corrupt(Raw(dir, """{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", new byte[8]),
            "the data buffer has 8 bytes but the tensors cover only 4 (trailing bytes)");
    }

    [Test]
    public void DuplicateNames()
    {
        using var dir = new TempDirectory();
        Corrupt(Raw(dir, """{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", new byte[8]),
            "the header names 'a' twice");
        Corrupt(Raw(dir, """{"__metadata__":{"k":"1","k":"2"}}""", []), "metadata names 'k' twice");
    }

    [Test]
    public void MissingFile()
    {
        using var dir = new TempDirectory();
        string path = dir.File("none.safetensors");
        Assert.That(() => SafetensorsReader.Read(path), Throws.TypeOf<InputException>().With.Message.Contains(path));
    }
}
