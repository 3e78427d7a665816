using Churn.Data.Predictions;

namespace Churn.Server.Predictions;

/// <summary>
/// Drains the prediction buffer into the store in batches. A batch the store refuses is spilled to a local file
/// and replayed when the store answers again; replay skips entries already stored, so it is safe to repeat.
/// On shutdown the buffer is closed and drained before the host stops; what a killed process left in its journal is replayed.
/// </summary>
public sealed class PredictionFlushJob(
    PredictionBuffer log, PredictionSpill spill, PredictionJournal journal, PredictionLogTarget target, IServiceProvider services, ILogger<PredictionFlushJob> logger)
    : BackgroundService
{
    private const int BatchSize = 500;

    /// <summary>
    /// How long a batch may gather once its first entry arrives. Under load, writing each entry as it arrives made many
    /// small transactions, whose fixed cost outweighed the rows; the entries are in the journal already, so the wait
    /// costs no durability, only up to this much delay before a prediction is visible in the store.
    /// </summary>
    private static readonly TimeSpan Gather = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan ReplayEvery = TimeSpan.FromSeconds(2);

    private DateTimeOffset nextReplay = DateTimeOffset.MinValue;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The loop ignores stoppingToken on purpose: it ends when the buffer is completed and empty, so nothing is dropped.
        var batch = new List<PredictionLogEntry>(BatchSize);
        while (true)
        {
            journal.Heartbeat();
            bool more;
            using (var wait = new CancellationTokenSource(ReplayEvery))
            {
                try
                {
                    more = await log.Reader.WaitToReadAsync(wait.Token);
                }
                catch (OperationCanceledException)
                {
                    await ReportSpillFailureAsync();
                    await ReplayIfDueAsync();
                    continue;
                }
            }
            if (!more)
            {
                break;
            }
            if (log.Reader.Count < BatchSize)
            {
                await Task.Delay(Gather, CancellationToken.None);
            }
            while (batch.Count < BatchSize && log.Reader.TryRead(out var entry))
            {
                batch.Add(entry);
            }
            var outcome = await WriteAsync(batch);
            if (outcome == Written.Nowhere)
            {
                // Neither the store nor the disk took the batch: keep it (and its journal entries) and try again shortly,
                // while the buffer holds the rest.
                await ReportSpillFailureAsync();
                await Task.Delay(ReplayEvery, CancellationToken.None);
                continue;
            }
            // Stored or spilled (fsynced) either way: the journal no longer needs these entries.
            journal.Stored(batch.Count);
            if (outcome == Written.Stored)
            {
                await ReplayIfDueAsync();
            }
            batch.Clear();
        }
        if (batch.Count > 0 && await WriteAsync(batch) != Written.Nowhere)
        {
            journal.Stored(batch.Count);
        }
        await ReplayIfDueAsync(force: true);
        journal.Close();
    }

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        // Before Kestrel listens: what a killed predecessor journaled goes to the spill, replayed by the loop below.
        if (journal.Open() > 0)
        {
            nextReplay = DateTimeOffset.MinValue;
        }
        return base.StartAsync(cancellationToken);
    }

    private enum Written
    {
        Stored,
        Spilled,
        Nowhere,
    }

    /// <summary>Raises the spill failure as an alert once per failure (the store may take it even when the disk does not).</summary>
    private async Task ReportSpillFailureAsync()
    {
        if (spill.Failure is not { } failure || failure == reportedFailure)
        {
            return;
        }
        reportedFailure = failure;
        try
        {
            await services.GetRequiredService<Monitoring.AlertRaiser>().RaiseAsync(PredictionLogAlert, "critical", failure, CancellationToken.None);
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Could not store the alert about the spill file; it is in this log: {Failure}", failure);
        }
    }

    /// <summary>The alert kind raised when predictions can be neither stored nor spilled.</summary>
    public const string PredictionLogAlert = "prediction_log";

    private string? reportedFailure;

    public override Task StopAsync(CancellationToken cancellationToken)
    {
        log.Complete();
        return base.StopAsync(cancellationToken);
    }

    private async Task<Written> WriteAsync(List<PredictionLogEntry> batch)
    {
        var real = batch;
        if (batch.Exists(e => e.Rehearsal))
        {
            await RehearseAsync([.. batch.Where(e => e.Rehearsal)]);
            real = [.. batch.Where(e => !e.Rehearsal)];
            if (real.Count == 0)
            {
                return Written.Stored;
            }
        }
        try
        {
            await using var db = target.Store.CreateDbContext();
            await PredictionLogInsert.InsertAsync(db, real);
            return Written.Stored;
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "The store refused {Count} logged predictions; spilling them to {Directory}.", real.Count, spill.Directory);
            nextReplay = DateTimeOffset.UtcNow + ReplayEvery;
            return spill.Append(real) ? Written.Spilled : Written.Nowhere;
        }
    }

    /// <summary>
    /// The warm-up's entries (<see cref="PredictionLogEntry.Rehearsal"/>): inserted in a transaction that is rolled back,
    /// so the store's insert path is compiled before real traffic and nothing is kept. A failure only costs the rehearsal.
    /// </summary>
    private async Task RehearseAsync(List<PredictionLogEntry> rehearsal)
    {
        try
        {
            await using var db = target.Store.CreateDbContext();
            await using var transaction = await db.Database.BeginTransactionAsync();
            await PredictionLogInsert.InsertAsync(db, rehearsal);
            await transaction.RollbackAsync();
        }
        catch (Exception ex)
        {
            logger.LogDebug(ex, "The warm-up's rehearsal of the prediction log's insert failed; nothing was stored either way.");
        }
    }

    private async Task ReplayIfDueAsync(bool force = false)
    {
        if ((!force && DateTimeOffset.UtcNow < nextReplay) || !spill.HasPending)
        {
            return;
        }
        nextReplay = DateTimeOffset.UtcNow + ReplayEvery;
        foreach (var file in spill.TakeForReplay())
        {
            try
            {
                foreach (var chunk in PredictionSpill.Read(file, logger).Chunk(BatchSize))
                {
                    await using var db = target.Store.CreateDbContext();
                    var ids = chunk.Select(e => e.Id).ToList();
                    var stored = (await db.PredictionLog.Where(p => ids.Contains(p.Id)).Select(p => p.Id).ToListAsync()).ToHashSet();
                    // Distinct too: a file may hold an entry twice (a batch spilled again after a failed attempt).
                    await PredictionLogInsert.InsertAsync(db, [.. chunk.Where(e => !stored.Contains(e.Id)).DistinctBy(e => e.Id)]);
                }
                File.Delete(file);
                logger.LogInformation("Replayed spilled predictions from {File}.", file);
            }
            catch (Exception ex)
            {
                // Still down: the file stays and is tried again later.
                logger.LogWarning(ex, "The store is still unavailable; keeping {File} for a later replay.", file);
                return;
            }
        }
    }
}
