using System.Buffers;
using Churn.Data.Predictions;

namespace Churn.Server.Predictions;

/// <summary>
/// The write-ahead journal that makes an accepted prediction survive a killed process. Each entry buffered for the store
/// is first appended as one JSON line to <c>journal/&lt;instance&gt;/segment-N.jsonl</c> with a single write to the OS
/// (not fsynced: a killed process loses nothing the kernel has; a power cut may lose the last moments). The writer
/// reports what it has put in the store (or the fsynced spill file), in buffer order; segments wholly behind that point
/// are deleted and the current one is truncated whenever everything is stored. At start, segments left by a killed
/// predecessor with the same instance id become spill files, which the writer replays idempotently (entries have ids).
/// </summary>
/// <remarks>
/// The folder is locked for this process (an OS file lock, released even on SIGKILL), so two live replicas configured
/// with one instance id fail at start instead of replaying each other's journal.
/// </remarks>
public sealed class PredictionJournal(IOptions<ServerOptions> options, PredictionSpill spill, ILogger<PredictionJournal> log) : IDisposable
{
    /// <summary>A segment is closed and a new one started past this size, so stored entries can be deleted under load too.</summary>
    public const long SegmentBytes = 8 * 1024 * 1024;

    private readonly Lock gate = new();
    private readonly Queue<(string Path, long EndSequence)> closed = new();
    private FileStream? folderLock;
    private FileStream? current;
    private string currentPath = "";
    private long segment;
    private long appended;
    private long stored;
    private bool failing;

    public string Directory => Path.Combine(options.Value.DataDir, "journal", options.Value.InstanceId);

    /// <summary>Locks the folder, hands segments left by an earlier run to the spill for replay and opens a fresh segment.</summary>
    public int Open()
    {
        lock (gate)
        {
            System.IO.Directory.CreateDirectory(Directory);
            try
            {
                folderLock = new FileStream(Path.Combine(Directory, ".lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException ex)
            {
                throw new InvalidOperationException(
                    $"Another running process uses the prediction journal {Directory}: give each replica its own Churn:InstanceId (Churn__InstanceId).", ex);
            }
            var recovered = 0;
            foreach (var file in System.IO.Directory.EnumerateFiles(Directory, "segment-*.jsonl").Order(StringComparer.Ordinal))
            {
                if (new FileInfo(file).Length > 0)
                {
                    spill.Adopt(file);
                    recovered++;
                }
                else
                {
                    File.Delete(file);
                }
            }
            if (recovered > 0)
            {
                log.LogWarning("Recovered {Count} prediction journal segment(s) from a previous run that did not stop cleanly; replaying them into the store.", recovered);
            }
            StartSegment();
            return recovered;
        }
    }

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? lineBuffer;

    [ThreadStatic]
    private static Utf8JsonWriter? lineWriter;

    /// <summary>The entry as one JSON line with its newline, in this thread's buffer (valid until the thread's next call).</summary>
    private static ReadOnlyMemory<byte> Line(PredictionLogEntry entry)
    {
        var buffer = lineBuffer ??= new ArrayBufferWriter<byte>(2048);
        buffer.ResetWrittenCount();
        if (lineWriter is null)
        {
            lineWriter = new Utf8JsonWriter(buffer);
        }
        else
        {
            lineWriter.Reset(buffer);
        }
        JsonSerializer.Serialize(lineWriter, entry, JsonSerializerOptions.Web);
        lineWriter.Flush();
        buffer.GetSpan(1)[0] = (byte)'\n';
        buffer.Advance(1);
        return buffer.WrittenMemory;
    }

    /// <summary>
    /// Journals <paramref name="entry"/> and hands it to <paramref name="buffer"/>, both under one lock so the journal and
    /// the buffer hold entries in the same order. False (nothing written) when the buffer refuses it.
    /// </summary>
    public bool TryAppend(PredictionLogEntry entry, Func<PredictionLogEntry, bool> buffer)
    {
        // Serialised outside the lock, into this thread's reused buffer: only the write itself is serialised between requests.
        var line = Line(entry);
        lock (gate)
        {
            if (!buffer(entry))
            {
                return false;
            }
            appended++;
            if (current is null)
            {
                return true;
            }
            try
            {
                // One write call for line and newline: a kill can cut at most the line being written, which replay skips.
                current.Write(line.Span);
                failing = false;
                if (current.Position >= SegmentBytes)
                {
                    closed.Enqueue((currentPath, appended));
                    current.Dispose();
                    StartSegment();
                }
            }
            catch (IOException ex)
            {
                // The entry is still buffered for the store; only its protection against a kill is lost, so serving goes on.
                if (!failing)
                {
                    log.LogError(ex, "Could not write the prediction journal {File}; predictions are logged but not protected against a crash.", currentPath);
                }
                failing = true;
            }
            return true;
        }
    }

    /// <summary>
    /// The writer has put the next <paramref name="count"/> buffered entries in the store or the spill file: delete the
    /// segments wholly behind them, and empty the current segment when nothing journaled is still waiting.
    /// </summary>
    public void Stored(int count)
    {
        lock (gate)
        {
            stored += count;
            while (closed.TryPeek(out var segmentFile) && segmentFile.EndSequence <= stored)
            {
                closed.Dequeue();
                TryDelete(segmentFile.Path);
            }
            if (stored == appended && closed.Count == 0 && current is { Position: > 0 })
            {
                current.SetLength(0);
                current.Position = 0;
            }
        }
    }

    /// <summary>After a clean drain every entry is stored: the journal is removed and its folder unlocked.</summary>
    public void Close()
    {
        lock (gate)
        {
            var clean = stored == appended;
            current?.Dispose();
            current = null;
            if (clean)
            {
                while (closed.TryDequeue(out var segmentFile))
                {
                    TryDelete(segmentFile.Path);
                }
                if (currentPath.Length > 0)
                {
                    TryDelete(currentPath);
                }
            }
            folderLock?.Dispose();
            folderLock = null;
        }
    }

    public void Dispose() => Close();

    private void StartSegment()
    {
        segment++;
        currentPath = Path.Combine(Directory, $"segment-{DateTime.UtcNow:yyyyMMddHHmmssfff}-{segment:D6}.jsonl");
        // No user-space buffer: each Write is one write(2) to the OS, so the line is in the kernel before the response goes out.
        current = new FileStream(currentPath, FileMode.CreateNew, FileAccess.Write, FileShare.Read, bufferSize: 0);
    }

    private void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException ex)
        {
            log.LogWarning(ex, "Could not delete the stored journal segment {File}; it is replayed (harmlessly) at the next start.", path);
        }
    }
}
