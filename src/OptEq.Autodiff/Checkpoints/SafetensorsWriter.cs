using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace OptEq.Autodiff.Checkpoints;

/// <summary>
/// Writes safetensors files: an 8-byte little-endian header length N, N bytes of JSON header (padded with spaces so
/// that the data starts 8-byte aligned), then the tensors' bytes back to back in the order they were added.
/// The file is written to a temporary sibling, flushed to disk and renamed over the target, so a crash or error
/// mid-write leaves any previous file at that path whole.
/// </summary>
public static class SafetensorsWriter
{
    /// <summary>Test hook: called after the header reaches the temporary file, to simulate a failure mid-write.</summary>
    [ThreadStatic] internal static Action<string>? AfterHeaderForTesting;

    public static void Write(string path, SafetensorsFile file)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(file);
        SafetensorsDTypes.EnsureLittleEndianHost();

        string target = Path.GetFullPath(path);
        byte[] header = EncodeHeader(file);
        // Same directory as the target: a rename within one file system is atomic, across file systems it is a copy.
        string temp = $"{target}.tmp-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}";
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 20))
            {
                Span<byte> length = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
                stream.Write(length);
                stream.Write(header);
                AfterHeaderForTesting?.Invoke(temp);
                foreach (var tensor in file.Tensors) stream.Write(tensor.Data);
                // The bytes must be on disk before the rename makes them the checkpoint; otherwise a power loss
                // could leave the new name pointing at an incomplete file.
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, target, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>The JSON header, UTF-8, padded with spaces to a multiple of 8 bytes.</summary>
    internal static byte[] EncodeHeader(SafetensorsFile file)
    {
        using var buffer = new MemoryStream();
        // Relaxed escaping keeps non-ASCII names and metadata readable; the header is never embedded in HTML.
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            if (file.Metadata.Count > 0)
            {
                json.WriteStartObject(SafetensorsTensor.MetadataKey);
                foreach (var (key, value) in file.Metadata) json.WriteString(key, value);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var tensor in file.Tensors)
            {
                json.WriteStartObject(tensor.Name);
                json.WriteString("dtype", tensor.DType.ToString());
                json.WriteStartArray("shape");
                foreach (int d in tensor.Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + tensor.Data.LongLength);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += tensor.Data.LongLength;
            }
            json.WriteEndObject();
        }
        int padded = (int)((buffer.Length + 7) / 8 * 8);
        while (buffer.Length < padded) buffer.WriteByte((byte)' ');
        return buffer.ToArray();
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { /* the original error matters more than a leftover temporary file */ }
        catch (UnauthorizedAccessException) { }
    }
}
