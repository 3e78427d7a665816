namespace Churn.Server.Hosting;

/// <summary>The data directory could not be created or written; the message names the folder, the user and the reason.</summary>
public sealed class DataDirectoryException(string message, Exception inner) : Exception(message, inner);

/// <summary>The server's data directory, checked before anything starts: the store, model files and logs all write there.</summary>
public static class DataDirectory
{
    /// <summary>Creates <paramref name="path"/> when it is missing and proves it writable by creating and deleting a probe file.</summary>
    /// <exception cref="DataDirectoryException">The folder cannot be created or written (read-only mount, wrong owner).</exception>
    public static void EnsureWritable(string path)
    {
        var full = Path.GetFullPath(path);
        var probe = Path.Combine(full, $".write-probe-{Environment.ProcessId}");
        try
        {
            Directory.CreateDirectory(full);
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new DataDirectoryException(
                $"The data directory {full} is not writable by user {Environment.UserName} ({ex.Message}). "
                + "Give that user write access to it; the container image runs as uid 1654 and needs a writable volume at /data.", ex);
        }
    }
}
