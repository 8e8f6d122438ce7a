namespace OptEq.Autodiff.Validation;

/// <summary>
/// Opens the files the program reads and checks the folders it writes, so that a missing, unreadable or special file
/// (a directory, FIFO, socket or device) is a clear <see cref="InputException"/> and never a blocked open or an endless read.
/// </summary>
public static class InputFiles
{
    /// <summary>
    /// Opens a regular file for reading. Checked before opening: it exists, is not a directory, and is not empty —
    /// FIFOs, sockets and devices report a size of 0 on Linux, and opening a FIFO would block until a writer comes.
    /// Checked after opening: the stream can seek (a regular file can; a pipe or a device cannot).
    /// </summary>
    /// <param name="what">What the file should be, for messages (e.g. "checkpoint", "IDX file").</param>
    public static FileStream OpenRead(string path, string what, int bufferSize = 4096)
    {
        CheckRegular(path, what);
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize);
        }
        catch (UnauthorizedAccessException e)
        {
            throw InputException.Access(path, $"the {what} cannot be read (permission denied)", e);
        }
        catch (IOException e)
        {
            throw InputException.Access(path, $"the {what} cannot be opened: {e.Message}", e);
        }
        if (!stream.CanSeek)
        {
            stream.Dispose();
            throw InputException.Access(path, $"the {what} is not a regular file (a pipe or a device); give a regular file");
        }
        return stream;
    }

    /// <summary>The checks of <see cref="OpenRead"/> that need no open: exists, not a directory, not empty or special.</summary>
    public static void CheckRegular(string path, string what)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (Directory.Exists(path)) throw InputException.Access(path, $"is a directory; a {what} must be a regular file");
        var info = new FileInfo(path);
        if (!info.Exists) throw InputException.Access(path, $"no such {what}");
        // A symbolic link reports its own size, not its target's: judge what it finally points to (a FIFO behind a link
        // would otherwise pass and block the open).
        if (info.LinkTarget is not null)
        {
            try { info = info.ResolveLinkTarget(returnFinalTarget: true) as FileInfo ?? info; }
            catch (IOException e) { throw InputException.Access(path, $"the {what} is a symbolic link that cannot be followed: {e.Message}", e); }
            if (!info.Exists) throw InputException.Access(path, $"the {what} is a symbolic link to a missing file ({info.FullName})");
            if (Directory.Exists(info.FullName)) throw InputException.Access(path, $"is a link to a directory; a {what} must be a regular file");
        }
        if (info.Length == 0)
            throw InputException.Access(path, $"the {what} is empty, or not a regular file (a pipe, socket or device report no size); give a regular file");
    }

    /// <summary>
    /// Creates <paramref name="folder"/> when needed and proves it writable by creating and deleting a probe file, so
    /// that an unwritable output folder fails before any work is done rather than after the first epoch.
    /// </summary>
    /// <param name="option">The option that named the folder (e.g. "--out").</param>
    public static string EnsureWritableFolder(string folder, string option)
    {
        string full;
        try
        {
            full = Path.GetFullPath(folder);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw InputException.Option(option, $"'{folder}' is not a valid path: {e.Message}");
        }
        if (File.Exists(full)) throw InputException.Access(full, $"{option} names a file; it must be a folder (or a path where one can be created)");
        string probe = Path.Combine(full, $".opteq-write-probe-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(full);
            using (File.Create(probe, 1, FileOptions.DeleteOnClose)) { }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw InputException.Access(full, $"{option} folder cannot be written ({Plain(e)})", e);
        }
        return full;
    }

    /// <summary>An I/O exception's message without its own path (the subject already names it).</summary>
    private static string Plain(Exception e) => e is UnauthorizedAccessException ? "permission denied" : e.Message;
}
