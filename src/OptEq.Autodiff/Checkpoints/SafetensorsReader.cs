using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Unicode;
using OptEq.Autodiff.Validation;

namespace OptEq.Autodiff.Checkpoints;

/// <summary>
/// Reads safetensors files with full validation: the header length fits the file, the header is a well-formed JSON
/// object with known dtypes and no duplicate names, each tensor's shape × dtype size equals its offset span, and the
/// offsets tile the data buffer exactly (no overlap, no hole, nothing out of range or left over).
/// Every problem is an <see cref="InputException"/> (a special or unreadable file too) whose message starts with the file's path.
/// </summary>
public static class SafetensorsReader
{
    /// <summary>The reference implementation's limit; a larger "header" means a corrupt length or another format.</summary>
    public const long MaxHeaderLength = 100_000_000;

    public static SafetensorsFile Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        SafetensorsDTypes.EnsureLittleEndianHost();
        using var stream = InputFiles.OpenRead(path, "safetensors file", bufferSize: 1 << 20);
        long fileLength = stream.Length;
        if (fileLength < 8) throw Error(path, $"truncated: {fileLength} bytes, too short for the 8-byte header length");
        Span<byte> lengthBytes = stackalloc byte[8];
        stream.ReadExactly(lengthBytes);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength > (ulong)(fileLength - 8))
            throw Error(path, $"header length {headerLength} exceeds the {fileLength - 8} bytes after the length field (truncated, or not a safetensors file)");
        if (headerLength > MaxHeaderLength)
            throw Error(path, $"header length {headerLength} is over the {MaxHeaderLength}-byte limit (not a safetensors file?)");

        var header = new byte[headerLength];
        stream.ReadExactly(header);
        long bufferLength = fileLength - 8 - (long)headerLength;
        var entries = ParseHeader(path, header, out var metadata);
        CheckLayout(path, entries, bufferLength);

        var file = new SafetensorsFile(path);
        foreach (var (key, value) in metadata) file.Metadata[key] = value;
        // Entries are in offset order and tile the buffer, so the data can be read straight through.
        foreach (var e in entries)
        {
            var data = new byte[e.End - e.Begin];
            stream.ReadExactly(data);
            file.Add(new SafetensorsTensor(e.Name, e.DType, e.Shape, data));
        }
        return file;
    }

    private sealed record Entry(string Name, SafetensorsDType DType, int[] Shape, long Begin, long End);

    /// <summary>The tensor entries sorted by offset, and the metadata.</summary>
    private static List<Entry> ParseHeader(string path, byte[] header, out Dictionary<string, string> metadata)
    {
        if (header.Length == 0 || header[0] != (byte)'{')
            throw Error(path, "the header does not start with '{' (not a safetensors file?)");
        // JsonDocument checks UTF-8 only when a string is decoded, which would surface as another exception type later.
        if (!Utf8.IsValid(header)) throw Error(path, "the header is not valid UTF-8");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw Error(path, $"the header is not valid JSON: {e.Message}");
        }

        using (document)
        {
            metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var entries = new List<Entry>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                // JSON allows repeated keys and most parsers keep the last; a checkpoint with two values for one name is corrupt.
                if (!names.Add(property.Name)) throw Error(path, $"the header names '{property.Name}' twice");
                if (property.Name == SafetensorsTensor.MetadataKey) metadata = ParseMetadata(path, property.Value);
                else entries.Add(ParseEntry(path, property.Name, property.Value));
            }
            entries.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
            return entries;
        }
    }

    private static Dictionary<string, string> ParseMetadata(string path, JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Object) throw Error(path, $"'{SafetensorsTensor.MetadataKey}' must be an object of strings, got {value.ValueKind}");
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in value.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.String) throw Error(path, $"metadata '{p.Name}' must be a string, got {p.Value.ValueKind}");
            if (!metadata.TryAdd(p.Name, p.Value.GetString()!)) throw Error(path, $"metadata names '{p.Name}' twice");
        }
        return metadata;
    }

    private static Entry ParseEntry(string path, string name, JsonElement value)
    {
        string Where() => $"tensor '{name}'";
        if (name.Length == 0) throw Error(path, "a tensor has an empty name");
        if (value.ValueKind != JsonValueKind.Object) throw Error(path, $"{Where()}: expected an object with dtype, shape and data_offsets, got {value.ValueKind}");

        JsonElement? dtypeElement = null, shapeElement = null, offsetsElement = null;
        foreach (var p in value.EnumerateObject())
        {
            switch (p.Name)
            {
                case "dtype" when dtypeElement is null: dtypeElement = p.Value; break;
                case "shape" when shapeElement is null: shapeElement = p.Value; break;
                case "data_offsets" when offsetsElement is null: offsetsElement = p.Value; break;
                case "dtype" or "shape" or "data_offsets": throw Error(path, $"{Where()}: '{p.Name}' appears twice");
                default: throw Error(path, $"{Where()}: unexpected field '{p.Name}'");
            }
        }
        if (dtypeElement is not { } dt || shapeElement is not { } sh || offsetsElement is not { } off)
            throw Error(path, $"{Where()}: needs dtype, shape and data_offsets");

        if (dt.ValueKind != JsonValueKind.String) throw Error(path, $"{Where()}: dtype must be a string");
        string dtypeName = dt.GetString()!;
        if (!SafetensorsDTypes.TryParse(dtypeName, out var dtype))
            throw Error(path, $"{Where()}: unknown or unsupported dtype '{dtypeName}' (known: {string.Join(", ", Enum.GetNames<SafetensorsDType>())})");

        if (sh.ValueKind != JsonValueKind.Array) throw Error(path, $"{Where()}: shape must be an array");
        var shape = new int[sh.GetArrayLength()];
        int i = 0;
        foreach (var d in sh.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt32(out shape[i]) || shape[i] < 0)
                throw Error(path, $"{Where()}: shape entry {d.GetRawText()} is not a dimension (a non-negative integer up to {int.MaxValue})");
            i++;
        }

        if (off.ValueKind != JsonValueKind.Array || off.GetArrayLength() != 2)
            throw Error(path, $"{Where()}: data_offsets must be an array [begin, end]");
        var offsets = new long[2];
        i = 0;
        foreach (var o in off.EnumerateArray())
        {
            if (o.ValueKind != JsonValueKind.Number || !o.TryGetInt64(out offsets[i]) || offsets[i] < 0)
                throw Error(path, $"{Where()}: data offset {o.GetRawText()} is not a non-negative integer");
            i++;
        }
        long begin = offsets[0], end = offsets[1];
        if (end < begin) throw Error(path, $"{Where()}: data_offsets [{begin}, {end}] end before they begin");

        long bytes = SafetensorsTensor.ByteCount(dtype, shape, out string? problem);
        if (problem is not null) throw Error(path, $"{Where()}: {problem}");
        if (bytes != end - begin)
            throw Error(path, $"{Where()}: shape {SafetensorsTensor.FormatShape(shape)} of {dtype} needs {bytes} bytes, but data_offsets [{begin}, {end}] span {end - begin}");
        return new Entry(name, dtype, shape, begin, end);
    }

    /// <summary>The sorted entries must tile [0, bufferLength) exactly.</summary>
    private static void CheckLayout(string path, List<Entry> entries, long bufferLength)
    {
        foreach (var e in entries)
            if (e.End > bufferLength)
                throw Error(path, $"tensor '{e.Name}': data_offsets [{e.Begin}, {e.End}] reach past the end of the {bufferLength}-byte data buffer (truncated file?)");
        long expected = 0;
        Entry? previous = null;
        foreach (var e in entries)
        {
            if (e.Begin < expected)
                throw Error(path, $"tensor '{e.Name}': data_offsets [{e.Begin}, {e.End}] overlap tensor '{previous!.Name}' [{previous.Begin}, {previous.End}]");
            if (e.Begin > expected)
                throw Error(path, $"bytes [{expected}, {e.Begin}) of the data buffer belong to no tensor (a hole before tensor '{e.Name}')");
            expected = e.End;
            previous = e;
        }
        if (expected != bufferLength)
            throw Error(path, $"the data buffer has {bufferLength} bytes but the tensors cover only {expected} (trailing bytes)");
    }

    private static InputException Error(string path, string problem) => InputException.Content(path, problem);
}
