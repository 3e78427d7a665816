using System.Buffers;
using Churn.Data.Predictions;

namespace Churn.Server.Predictions;

/// <summary>When a journal line reaches the disk itself (fsync), beyond the OS; see <see cref="ServerOptions.PredictionJournalFlush"/>.</summary>
public enum JournalFlush
{
    /// <summary>A request's lines are one write to the OS and are never fsynced: safe against a killed process, not a power cut.</summary>
    Os,

    /// <summary>Lines are fsynced together at most every commit interval; a response waits for the fsync covering it.</summary>
    GroupCommit,

    /// <summary>A request's lines are fsynced before the next request's are written.</summary>
    EveryWrite,
}

/// <summary>
/// The write-ahead journal that makes an accepted prediction survive a killed process. Each entry buffered for the store
/// is first appended as one JSON line to <c>journal/&lt;instance&gt;/segment-N.jsonl</c> with a single write to the OS, so
/// a killed process loses nothing the kernel has. Against a power cut the line must reach the disk too; how is
/// <see cref="ServerOptions.PredictionJournalFlush"/>: by default a group commit (one fsync for the lines of the last
/// couple of milliseconds, awaited before the responses they belong to are sent, see <see cref="Cover"/>). The writer
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

    /// <summary>The file whose modification time says the journal's replica is alive (see <see cref="Heartbeat"/>).</summary>
    public const string HeartbeatFile = "heartbeat";

    /// <summary>The file a live replica keeps locked in its journal folder.</summary>
    public const string LockFile = ".lock";

    /// <summary>How often a live replica touches its heartbeat file (far shorter than any sensible orphan timeout).</summary>
    public static readonly TimeSpan HeartbeatEvery = TimeSpan.FromSeconds(2);

    private static readonly AsyncLocal<JournalCoverage?> Covering = new();

    private readonly Lock gate = new();
    private readonly SemaphoreSlim commitWanted = new(0);
    private TaskCompletionSource commit = new(TaskCreationOptions.RunContinuationsAsynchronously);
    // One round (capture, fsync, release) at a time, run by the committer or, under light load, by a waiting request.
    private readonly SemaphoreSlim round = new(1, 1);
    // Writes (one per request's append, whatever its number of lines) per second, measured over windows of RateWindow by
    // the rounds: the load that decides how to sync. Lines would count a lone 100-row batch as heavy load, and make it wait
    // for the commit interval with nobody to gather.
    private double rate;
    private DateTime lastSync = DateTime.MinValue;
    private DateTime markTime = DateTime.UtcNow;
    private long markWrites;
    private long writes;
    private long durable;
    private bool commitPending;
    private bool syncFailing;
    private Thread? committer;
    private bool shut;
    private DateTime lastHeartbeat = DateTime.MinValue;
    private readonly Queue<(string Path, long EndSequence)> closed = new();
    private FileStream? folderLock;
    private FileStream? current;
    private string currentPath = "";
    private long segment;
    private long appended;
    private long stored;
    private bool failing;

    public string Directory => Path.Combine(options.Value.DataDir, "journal", options.Value.InstanceId);

    /// <summary>The policy in force.</summary>
    public JournalFlush Flush => options.Value.PredictionJournalFlush;

    /// <summary>Lines journaled since the journal opened (rehearsals included, though never written).</summary>
    public long AppendedLines
    {
        get
        {
            lock (gate)
            {
                return appended;
            }
        }
    }

    /// <summary>Lines known to be on disk (fsynced); with <see cref="JournalFlush.Os"/>, none are until the journal closes.</summary>
    public long DurableLines
    {
        get
        {
            lock (gate)
            {
                return durable;
            }
        }
    }

    /// <summary>
    /// Starts tracking, for the current request (the async flow from here down), the last journal line it appends, so
    /// that <see cref="WaitCoveredAsync"/> can hold its response until that line is on disk. While the coverage is open
    /// an append leaves the round to that wait; once it is closed (the response started, or the request ended), lines
    /// appended in the flow ask the committer for a round like any caller's.
    /// </summary>
    public static JournalCoverage Cover() => Covering.Value = new JournalCoverage();

    /// <summary>
    /// Closes <paramref name="coverage"/> and completes when the last line it covers is on disk: what a response waits
    /// for as it starts.
    /// </summary>
    public Task WaitCoveredAsync(JournalCoverage coverage)
    {
        ArgumentNullException.ThrowIfNull(coverage);
        long line;
        lock (gate)
        {
            coverage.Closed = true;
            line = coverage.Line;
        }
        return line == 0 ? Task.CompletedTask : WaitDurableAsync(line);
    }

    /// <summary>
    /// Closes <paramref name="coverage"/> without waiting (the request ended, its response perhaps never sent): a line it
    /// covers that is not yet on disk gets a round from the committer.
    /// </summary>
    public void Release(JournalCoverage coverage)
    {
        ArgumentNullException.ThrowIfNull(coverage);
        lock (gate)
        {
            coverage.Closed = true;
            if (coverage.Line > durable)
            {
                WantCommit();
            }
        }
    }

    /// <summary>Completes when every line up to <paramref name="sequence"/> is on disk (at once unless the policy is a group commit).</summary>
    /// <remarks>
    /// Under light load (below <see cref="GatherAbovePerSecond"/> writes a second) with no round running, the waiting
    /// request runs the round itself, on its own thread: one fsync, without handing over to the committer and back.
    /// Otherwise it asks the committer for the next round and waits for it.
    /// </remarks>
    public Task WaitDurableAsync(long sequence)
    {
        Task next;
        lock (gate)
        {
            if (durable >= sequence || current is null || Flush != JournalFlush.GroupCommit)
            {
                return Task.CompletedTask;
            }
            if (Volatile.Read(ref rate) >= GatherAbovePerSecond || shut || !round.Wait(0))
            {
                next = commit.Task;
                WantCommit();
                return WaitThenAsync(next, sequence);
            }
        }
        RunRound();
        // The round covered every line appended before it began, this request's included.
        return WaitDurableAsync(sequence);
    }

    private async Task WaitThenAsync(Task next, long sequence)
    {
        await next;
        // The round that completed may have started before this line was written; then the next one covers it.
        await WaitDurableAsync(sequence);
    }

    /// <summary>Marks this replica alive for the others (see <see cref="OrphanedJournals"/>): the heartbeat file's time is now.</summary>
    public void Heartbeat()
    {
        var now = DateTime.UtcNow;
        if (now - lastHeartbeat < HeartbeatEvery)
        {
            return;
        }
        lastHeartbeat = now;
        try
        {
            var path = Path.Combine(Directory, HeartbeatFile);
            if (!File.Exists(path))
            {
                File.WriteAllBytes(path, []);
            }
            File.SetLastWriteTimeUtc(path, now);
        }
        catch (IOException ex)
        {
            log.LogDebug(ex, "Could not touch the journal heartbeat.");
        }
    }
    /// <summary>Locks the folder, hands segments left by an earlier run to the spill for replay and opens a fresh segment.</summary>
    public int Open()
    {
        lock (gate)
        {
            System.IO.Directory.CreateDirectory(Directory);
            for (var attempt = 0; folderLock is null; attempt++)
            {
                try
                {
                    folderLock = new FileStream(Path.Combine(Directory, LockFile), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                }
                catch (IOException ex) when (attempt < 20)
                {
                    // A replica adopting this folder as orphaned holds the lock for a moment; a live twin holds it for good.
                    log.LogDebug(ex, "The journal folder is locked; trying again.");
                    Thread.Sleep(250);
                }
                catch (IOException ex)
                {
                    throw new InvalidOperationException(
                        $"Another running process uses the prediction journal {Directory}: give each replica its own Churn:InstanceId (Churn__InstanceId).", ex);
                }
            }
            Heartbeat();
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
            if (Flush == JournalFlush.GroupCommit)
            {
                // A thread of its own, not the pool's: under load the pool's queue is full of requests, and a round
                // queued behind them would hold every waiting response longer.
                committer = new Thread(CommitLoop) { IsBackground = true, Name = "Churn journal commit" };
                committer.Start();
            }
            return recovered;
        }
    }

    /// <summary>Journal writes (requests' appends) per second from which a round waits for the commit interval (below it syncs at once).</summary>
    private const double GatherAbovePerSecond = 2_000;

    /// <summary>The window over which that rate is measured.</summary>
    private static readonly TimeSpan RateWindow = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// The group commit: waits until a line is pending and, when writes arrive at <see cref="GatherAbovePerSecond"/> or more
    /// (heavy load), until the commit interval since the last fsync has passed; then fsyncs everything appended so
    /// far with one call and releases the responses waiting for it. Under light load a response so waits for one fsync,
    /// not for the interval.
    /// </summary>
    private void CommitLoop()
    {
        var interval = options.Value.PredictionJournalCommitInterval;
        while (true)
        {
            commitWanted.Wait();
            // Under light load waiting would only add latency, so sync at once; under heavy load the interval gathers more
            // lines into each fsync, instead of one fsync after another.
            var wait = Volatile.Read(ref rate) >= GatherAbovePerSecond ? lastSync + interval - DateTime.UtcNow : TimeSpan.Zero;
            if (wait > TimeSpan.Zero)
            {
                Thread.Sleep(wait);
            }
            round.Wait();
            lock (gate)
            {
                if (shut)
                {
                    commit.TrySetResult();
                    round.Release();
                    return;
                }
            }
            RunRound();
        }
    }

    /// <summary>
    /// One round, run by whoever holds <see cref="round"/> (released here): fsyncs everything appended so far with one
    /// call and releases the responses waiting for it.
    /// </summary>
    private void RunRound()
    {
        long upTo;
        long writesUpTo;
        FileStream? file;
        TaskCompletionSource done;
        try
        {
            lock (gate)
            {
                upTo = appended;
                writesUpTo = writes;
                file = current;
                done = commit;
                commit = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                commitPending = false;
            }
            if (upTo > Volatile.Read(ref durable) && file is not null)
            {
                try
                {
                    // Outside the lock: requests go on appending while the disk works. A segment closed meanwhile was
                    // fsynced as it closed.
                    RandomAccess.FlushToDisk(file.SafeFileHandle);
                    syncFailing = false;
                }
                catch (ObjectDisposedException)
                {
                }
                catch (IOException ex)
                {
                    // The lines are with the OS still; only the power-cut guarantee is lost. Say so once, keep serving.
                    if (!syncFailing)
                    {
                        log.LogError(ex, "Could not fsync the prediction journal {File}; predictions are protected against a crash but not a power cut.", currentPath);
                    }
                    syncFailing = true;
                }
            }
            lastSync = DateTime.UtcNow;
            if (lastSync - markTime >= RateWindow)
            {
                Volatile.Write(ref rate, (writesUpTo - markWrites) / (lastSync - markTime).TotalSeconds);
                (markWrites, markTime) = (writesUpTo, lastSync);
            }
            lock (gate)
            {
                durable = Math.Max(durable, upTo);
            }
        }
        finally
        {
            round.Release();
        }
        done.TrySetResult();
    }

    /// <summary>Asks the committer for a round, once per round (called under the gate).</summary>
    private void WantCommit()
    {
        if (!commitPending && committer is not null)
        {
            commitPending = true;
            commitWanted.Release();
        }
    }

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? lineBuffer;

    /// <summary>
    /// Whether a rehearsal has been serialised in this process. The first serialisation builds the serialiser's metadata
    /// for <see cref="PredictionLogEntry"/> (property accessors emitted and compiled), so one rehearsal is serialised, to
    /// nothing, for the first real prediction not to pay for it (bench/NOTES.md). Real entries leave the flag alone.
    /// </summary>
    private static volatile bool serialiserBuilt;

    [ThreadStatic]
    private static Utf8JsonWriter? lineWriter;

    [ThreadStatic]
    private static List<int>? lineEnds;

    /// <summary>
    /// The entries that are not rehearsals, each as one JSON line with its newline, one after another in this thread's
    /// buffer (valid until the thread's next call); <c>ends[i]</c> is where the lines of the first i + 1 entries end.
    /// </summary>
    private static (ReadOnlyMemory<byte> Lines, List<int> Ends) Lines(IReadOnlyList<PredictionLogEntry> entries)
    {
        var buffer = lineBuffer ??= new ArrayBufferWriter<byte>(2048);
        buffer.ResetWrittenCount();
        var ends = lineEnds ??= [];
        ends.Clear();
        if (lineWriter is null)
        {
            lineWriter = new Utf8JsonWriter(buffer);
        }
        foreach (var entry in entries)
        {
            if (!entry.Rehearsal)
            {
                lineWriter.Reset(buffer);
                JsonSerializer.Serialize(lineWriter, entry, JsonSerializerOptions.Web);
                lineWriter.Flush();
                buffer.GetSpan(1)[0] = (byte)'\n';
                buffer.Advance(1);
            }
            else if (!serialiserBuilt)
            {
                _ = JsonSerializer.SerializeToUtf8Bytes(entry, JsonSerializerOptions.Web);
                serialiserBuilt = true;
            }
            ends.Add(buffer.WrittenCount);
        }
        return (buffer.WrittenMemory, ends);
    }

    /// <summary>
    /// Journals <paramref name="entries"/> in order and hands each to <paramref name="buffer"/>, all under one lock (so
    /// the journal and the buffer hold entries in the same order), with one write call for all their lines. Stops at the first entry the buffer refuses: returns how many were taken
    /// (journaled and buffered); the rest are neither.
    /// </summary>
    public int TryAppend(IReadOnlyList<PredictionLogEntry> entries, Func<PredictionLogEntry, bool> buffer)
    {
        // Serialised outside the lock, into this thread's reused buffer: only the write itself is serialised between requests.
        var (lines, ends) = Lines(entries);
        lock (gate)
        {
            var taken = 0;
            while (taken < entries.Count && buffer(entries[taken]))
            {
                taken++;
            }
            appended += taken;
            var bytes = taken == 0 ? 0 : ends[taken - 1];
            if (current is null || bytes == 0)
            {
                // A rehearsal is counted (the writer reports it stored with its batch) but never written: a crash must not replay it.
                return taken;
            }
            try
            {
                // One write call for the lines and their newlines: a kill can cut at most the line being written, which replay skips.
                current.Write(lines.Span[..bytes]);
                writes++;
                failing = false;
                switch (Flush)
                {
                    case JournalFlush.EveryWrite:
                        current.Flush(flushToDisk: true);
                        durable = appended;
                        break;
                    case JournalFlush.GroupCommit:
                        if (Covering.Value is { Closed: false } covered)
                        {
                            // The request's response waits for this line (WaitCoveredAsync) and asks for the round, or runs it, then.
                            covered.Line = appended;
                        }
                        else
                        {
                            // Nobody waits for this line (a dashboard prediction, a background caller): a round is asked for all the same.
                            WantCommit();
                        }
                        break;
                }
                if (current.Position >= SegmentBytes)
                {
                    closed.Enqueue((currentPath, appended));
                    if (Flush != JournalFlush.Os)
                    {
                        current.Flush(flushToDisk: true);
                    }
                    current.Dispose();
                    StartSegment();
                }
            }
            catch (IOException ex)
            {
                // The entries are still buffered for the store; only their protection against a kill is lost, so serving goes on.
                if (!failing)
                {
                    log.LogError(ex, "Could not write the prediction journal {File}; predictions are logged but not protected against a crash.", currentPath);
                }
                failing = true;
            }
            return taken;
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
            durable = appended;
            shut = true;
            commit.TrySetResult();
            if (committer is not null)
            {
                commitWanted.Release();
            }
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
