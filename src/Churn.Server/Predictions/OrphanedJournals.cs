using Churn.Server.Jobs;

namespace Churn.Server.Predictions;

/// <summary>
/// Adopts what a replica that never came back left behind. Every replica looks at the other journal folders under
/// <c>journal/</c> in the shared data directory; one whose heartbeat (see <see cref="PredictionJournal.Heartbeat"/>) is
/// older than <see cref="ServerOptions.OrphanedJournalAfter"/> and whose folder lock it can take is adopted: its journal
/// segments and its spill files move into this replica's spill (a rename each, so exactly one replica gets each file),
/// the prediction log writer replays them (skipping ids already stored), the folder is removed, and the jobs that
/// replica left queued or running are failed with the reason.
/// </summary>
public sealed class OrphanedJournals(IOptions<ServerOptions> options, PredictionSpill spill, JobRecords jobs, TimeProvider time, ILogger<OrphanedJournals> log)
    : BackgroundService
{
    /// <summary>How often the folders are looked at: half the orphan timeout, between a second and half a minute.</summary>
    public TimeSpan ScanEvery => TimeSpan.FromTicks(Math.Clamp(options.Value.OrphanedJournalAfter.Ticks / 2, TimeSpan.TicksPerSecond, 30 * TimeSpan.TicksPerSecond));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            await Task.Delay(ScanEvery, time, stoppingToken);
            try
            {
                await AdoptAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                log.LogWarning(ex, "Could not look for orphaned prediction journals; trying again in {Interval}.", ScanEvery);
            }
        }
    }

    /// <summary>Adopts every orphaned journal folder found now; returns the instances adopted.</summary>
    public async Task<IReadOnlyList<string>> AdoptAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        var root = Path.Combine(o.DataDir, "journal");
        if (!Directory.Exists(root))
        {
            return [];
        }
        var adopted = new List<string>();
        var now = time.GetUtcNow().UtcDateTime;
        foreach (var folder in Directory.EnumerateDirectories(root))
        {
            var instance = Path.GetFileName(folder);
            if (instance == o.InstanceId || now - LastSeen(folder) < o.OrphanedJournalAfter)
            {
                continue;
            }
            var files = TryAdopt(folder, instance);
            if (files < 0)
            {
                continue;
            }
            adopted.Add(instance);
            log.LogWarning("Adopted the prediction journal of replica {Instance}, not seen since {LastSeen:u}: {Files} file(s) handed to this replica's spill for replay.",
                instance, LastSeenOrNow(folder, now), files);
            try
            {
                var failed = await jobs.FailAbandonedAsync(instance, time.GetUtcNow(),
                    $"Its replica ({instance}) stopped and was not seen again for {o.OrphanedJournalAfter}, so the job was abandoned; submit it again.", cancellationToken);
                if (failed > 0)
                {
                    log.LogWarning("Marked {Count} job(s) of replica {Instance} failed.", failed, instance);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Its jobs stay unfinished until the store answers and another adoption (or the replica's return) fails them.
                log.LogWarning(ex, "Could not fail the unfinished jobs of replica {Instance}.", instance);
            }
        }
        return adopted;
    }

    /// <summary>
    /// Under the folder's lock (held by a live replica, so taking it means none runs here), moves its segments and its
    /// spill files into this replica's spill and removes the folder. Returns the files moved, or -1 when it is locked.
    /// </summary>
    private int TryAdopt(string folder, string instance)
    {
        FileStream folderLock;
        try
        {
            folderLock = new FileStream(Path.Combine(folder, PredictionJournal.LockFile), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            // Alive after all, or another replica is adopting it right now (or has just removed it).
            return -1;
        }
        var moved = 0;
        using (folderLock)
        {
            foreach (var segment in Directory.EnumerateFiles(folder, "segment-*.jsonl").Order(StringComparer.Ordinal))
            {
                if (new FileInfo(segment).Length > 0)
                {
                    spill.Adopt(segment);
                    moved++;
                }
                else
                {
                    File.Delete(segment);
                }
            }
            var orphanSpill = Path.Combine(options.Value.DataDir, "spill", instance);
            if (Directory.Exists(orphanSpill))
            {
                foreach (var file in Directory.EnumerateFiles(orphanSpill, "*.jsonl").Order(StringComparer.Ordinal))
                {
                    spill.Adopt(file);
                    moved++;
                }
                Directory.Delete(orphanSpill, recursive: true);
            }
        }
        Directory.Delete(folder, recursive: true);
        return moved;
    }

    /// <summary>The last sign of life in a journal folder: its heartbeat, else its newest file, else the folder itself.</summary>
    private static DateTime LastSeen(string folder)
    {
        var newest = Directory.GetLastWriteTimeUtc(folder);
        foreach (var file in Directory.EnumerateFiles(folder))
        {
            var written = File.GetLastWriteTimeUtc(file);
            if (written > newest)
            {
                newest = written;
            }
        }
        return newest;
    }

    private static DateTime LastSeenOrNow(string folder, DateTime now) => Directory.Exists(folder) ? LastSeen(folder) : now;
}
