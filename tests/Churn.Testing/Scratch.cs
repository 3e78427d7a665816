namespace Churn.Testing;

/// <summary>
/// Where tests write files: one folder per test process under the system temp folder, removed when the process exits
/// (and, when the runner stops a test host before its exit handler runs, by the next test process or by test.sh), so a
/// test that forgets to clean up or is killed half-way leaves nothing behind.
/// </summary>
public static class Scratch
{
    /// <summary>This test process's folder: <c>&lt;temp&gt;/churn-tests/&lt;process id&gt;-&lt;random&gt;</c>.</summary>
    public static string Root { get; } = CreateRoot();

    /// <summary>A new, empty folder under <see cref="Root"/> whose name starts with <paramref name="prefix"/>.</summary>
    public static string NewDirectory(string prefix = "dir")
    {
        var path = Path.Combine(Root, $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>A path under <see cref="Root"/> for a file that does not exist yet, ending in <paramref name="extension"/> (with its dot).</summary>
    public static string NewFilePath(string extension = "") => Path.Combine(Root, $"file-{Guid.NewGuid():N}{extension}");

    /// <summary>Deletes <paramref name="path"/> and everything below it; a file a killed child still holds is left to the process-exit sweep.</summary>
    public static void Delete(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A killed child may hold a file a moment longer; the sweep at process exit removes it.
        }
    }

    private static string CreateRoot()
    {
        var parent = Path.Combine(Path.GetTempPath(), "churn-tests");
        var root = Path.Combine(parent, $"{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}");
        Directory.CreateDirectory(root);
        SweepAbandoned(parent, root);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            Delete(root);
            try
            {
                // The shared parent goes too once the last test process has removed its own folder.
                Directory.Delete(parent);
            }
            catch (IOException)
            {
                // Another test process still works in it.
            }
        };
        return root;
    }

    /// <summary>
    /// Removes folders left by test processes that have ended: a test host stopped by the runner does not always get
    /// to run its exit handler. A folder whose process still runs belongs to a suite running beside this one.
    /// </summary>
    private static void SweepAbandoned(string parent, string own)
    {
        foreach (var folder in Directory.EnumerateDirectories(parent))
        {
            var name = Path.GetFileName(folder);
            var dash = name.IndexOf('-', StringComparison.Ordinal);
            if (folder == own || dash <= 0 || !int.TryParse(name.AsSpan(0, dash), out var pid) || IsRunning(pid))
            {
                continue;
            }
            Delete(folder);
        }
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
