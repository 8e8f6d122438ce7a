namespace OptEq.Cli.Reporting;

/// <summary>Whole-file writes that never leave a half-written target behind.</summary>
internal static class AtomicFile
{
    /// <summary>
    /// Writes <paramref name="bytes"/> to a temporary file beside <paramref name="fullPath"/> and renames it over
    /// the target: readers see the old file or the new one, never a partial one. The temporary file is removed on failure.
    /// </summary>
    public static void Write(string fullPath, byte[] bytes)
    {
        string folder = Path.GetDirectoryName(fullPath)!;
        // Same folder, so the rename stays on one file system and is atomic.
        string temp = Path.Combine(folder, $".{Path.GetFileName(fullPath)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, fullPath, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: the original error is the one worth reporting.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
