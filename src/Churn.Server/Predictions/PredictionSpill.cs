using Churn.Data.Predictions;
using Churn.Server.Telemetry;

namespace Churn.Server.Predictions;

/// <summary>
/// The local JSON-lines file where predictions wait while the store is unavailable. Appends go to
/// <c>spill/&lt;instance&gt;/predictions.jsonl</c>, one folder per replica so replicas sharing a data directory never
/// write or replay the same file; a replay first renames it, so new spills never mix with a file being replayed.
/// </summary>
public sealed class PredictionSpill(IOptions<ServerOptions> options, ServerMetrics metrics, ILogger<PredictionSpill> log)
{
    private readonly Lock gate = new();
    private string? failure;
    private int failureReported;

    /// <summary>Why the last spill failed (disk full, no permission), or null while spilling works.</summary>
    public string? Failure => Volatile.Read(ref failure);

    public string Directory => Path.Combine(options.Value.DataDir, "spill", options.Value.InstanceId);

    /// <summary>Where single-node versions spilled; files found there are taken over by the first replica to replay.</summary>
    private string SharedDirectory => Path.Combine(options.Value.DataDir, "spill");

    private string Current => Path.Combine(Directory, "predictions.jsonl");

    public bool HasPending => (System.IO.Directory.Exists(Directory) && System.IO.Directory.EnumerateFiles(Directory, "*.jsonl").Any())
        || (System.IO.Directory.Exists(SharedDirectory) && System.IO.Directory.EnumerateFiles(SharedDirectory, "*.jsonl").Any());

    /// <summary>Moves <paramref name="file"/> (a journal segment left by a killed process) into this spill, to be replayed.</summary>
    public void Adopt(string file)
    {
        lock (gate)
        {
            System.IO.Directory.CreateDirectory(Directory);
            File.Move(file, Path.Combine(Directory, $"replay-{DateTime.UtcNow:yyyyMMddHHmmssfffffff}-{Path.GetFileNameWithoutExtension(file)}.jsonl"));
        }
    }

    /// <summary>Appends entries to the spill file; false (logged, counted, reported on health) when the disk refuses them.</summary>
    public bool Append(IReadOnlyList<PredictionLogEntry> entries)
    {
        try
        {
            lock (gate)
            {
                System.IO.Directory.CreateDirectory(Directory);
                using var file = new FileStream(Current, FileMode.Append, FileAccess.Write, FileShare.Read);
                using var writer = new StreamWriter(file);
                foreach (var entry in entries)
                {
                    writer.WriteLine(JsonSerializer.Serialize(entry, JsonSerializerOptions.Web));
                }
                writer.Flush();
                file.Flush(flushToDisk: true);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A full disk must not take the server down with it: say so loudly once, keep serving, keep counting.
            Volatile.Write(ref failure, $"Cannot write the prediction spill file {Current}: {ex.Message}");
            metrics.SpillFailed(entries.Count);
            if (Interlocked.Exchange(ref failureReported, 1) == 0)
            {
                log.LogCritical(ex, "Cannot write the prediction spill file {File}: {Problem}. Predictions are still served; those the store cannot take are kept in memory while there is room.", Current, ex.Message);
            }
            return false;
        }
        if (Volatile.Read(ref failure) is not null)
        {
            Volatile.Write(ref failure, null);
            Volatile.Write(ref failureReported, 0);
            log.LogInformation("The prediction spill file can be written again.");
        }
        metrics.Spilled(entries.Count);
        return true;
    }

    /// <summary>Files ready to replay, oldest first; the current file is renamed aside to become one of them.</summary>
    public IReadOnlyList<string> TakeForReplay()
    {
        lock (gate)
        {
            TakeOverShared();
            if (!System.IO.Directory.Exists(Directory))
            {
                return [];
            }
            // Only a regular file is replayed: anything else in its place (a link to a device) is not ours to read.
            if (File.Exists(Current) && new FileInfo(Current).LinkTarget is null)
            {
                File.Move(Current, Path.Combine(Directory, $"replay-{DateTime.UtcNow:yyyyMMddHHmmssfffffff}-{Guid.NewGuid():N}.jsonl"));
            }
            return [.. System.IO.Directory.EnumerateFiles(Directory, "replay-*.jsonl").Order(StringComparer.Ordinal)];
        }
    }

    private void TakeOverShared()
    {
        if (!System.IO.Directory.Exists(SharedDirectory))
        {
            return;
        }
        foreach (var file in System.IO.Directory.EnumerateFiles(SharedDirectory, "*.jsonl"))
        {
            try
            {
                System.IO.Directory.CreateDirectory(Directory);
                File.Move(file, Path.Combine(Directory, $"replay-{DateTime.UtcNow:yyyyMMddHHmmssfffffff}-{Guid.NewGuid():N}.jsonl"));
            }
            catch (IOException)
            {
                // Another replica moved it first (or it is still being written by an older process); it is not ours to replay.
            }
        }
    }

    /// <summary>The entries of a spill or journal file; unreadable lines are skipped silently.</summary>
    public static IEnumerable<PredictionLogEntry> Read(string file) => Read(file, null);

    /// <summary>
    /// The entries of a spill or journal file. A line that cannot be read (cut short by a crash mid-write, or zeros
    /// left by a power cut) is skipped, and <paramref name="log"/> is told how many were, once the file has been read.
    /// </summary>
    public static IEnumerable<PredictionLogEntry> Read(string file, ILogger? log)
    {
        var skipped = 0;
        var number = 0;
        var lastSkipped = 0;
        foreach (var line in File.ReadLines(file))
        {
            number++;
            PredictionLogEntry? entry = null;
            try
            {
                entry = JsonSerializer.Deserialize<PredictionLogEntry>(line, JsonSerializerOptions.Web);
            }
            catch (JsonException)
            {
            }
            if (entry is not null)
            {
                yield return entry;
            }
            else if (line.Trim('\0', ' ', '\t', '\r').Length > 0)
            {
                skipped++;
                lastSkipped = number;
            }
        }
        if (skipped > 0)
        {
            log?.LogWarning("Skipped {Count} unreadable line(s) of {File} (the last at line {Line} of {Lines}): a line cut short by a crash or a power cut cannot be replayed; the other entries were.",
                skipped, file, lastSkipped, number);
        }
    }
}
