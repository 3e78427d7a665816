namespace Churn.Testing;

/// <summary>What a running process holds, read from /proc: resident memory (VmRSS) and open file descriptors.</summary>
/// <param name="RssBytes">Resident set size in bytes.</param>
/// <param name="OpenFds">Entries in <c>/proc/PID/fd</c>: files, sockets, pipes.</param>
public readonly record struct ProcessResources(long RssBytes, int OpenFds)
{
    /// <summary>Reads the resources of process <paramref name="pid"/> (Linux only).</summary>
    /// <exception cref="IOException">The process has exited.</exception>
    public static ProcessResources Of(int pid)
    {
        long rss = 0;
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                rss = long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
            }
        }
        return new ProcessResources(rss, Directory.GetFileSystemEntries($"/proc/{pid}/fd").Length);
    }

    /// <summary>
    /// Null when this reading is within the generous bound of <paramref name="baseline"/> (RSS at most ×1.5 + 64 MB, at
    /// most 50 more descriptors), else what exceeded it. Generous on purpose: a leak of a few kilobytes per request, or of
    /// a connection per fault, exceeds it over a soak, while the runtime's own heap growth and pooled connections do not.
    /// </summary>
    public string? GrowthBeyond(ProcessResources baseline)
    {
        var problems = new List<string>();
        if (RssBytes > (baseline.RssBytes * 1.5) + (64L * 1024 * 1024))
        {
            problems.Add($"RSS grew from {baseline.RssBytes} to {RssBytes} bytes");
        }
        if (OpenFds > baseline.OpenFds + 50)
        {
            problems.Add($"open file descriptors grew from {baseline.OpenFds} to {OpenFds}");
        }
        return problems.Count == 0 ? null : string.Join("; ", problems);
    }

    /// <summary>"RSS 205.6 MB, 401 fds".</summary>
    public override string ToString() => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"RSS {RssBytes / 1048576.0:0.0} MB, {OpenFds} fds");
}
