using Churn.Server.Coordination;

namespace Churn.Server.Monitoring;

/// <summary>
/// Purges raw prediction logs older than <c>monitoring.retention_days</c> in batches, so no single delete holds the
/// store for long; monitoring results (the aggregates) and feedback stay. Warns when retention is shorter than the
/// label delay, since predictions would then be gone before their outcomes arrive.
/// </summary>
public sealed class RetentionPurge(StoreFactory store, RuntimeSettings settings, TimeProvider time, ILogger<RetentionPurge> log)
{
    public const int BatchSize = 5000;

    public async Task<int> RunAsync(CancellationToken ct)
    {
        var m = settings.Monitoring;
        if (m.RetentionDays < m.LabelDelayDays)
        {
            log.LogWarning("monitoring.retention_days ({Retention}) is shorter than monitoring.label_delay_days ({Delay}): predictions are purged before their outcomes arrive, so realised performance and retraining lose them.",
                m.RetentionDays, m.LabelDelayDays);
        }
        var cutoff = time.GetUtcNow().AddDays(-m.RetentionDays);
        var purged = 0;
        while (true)
        {
            await using var db = store.CreateDbContext();
            var batch = await db.PredictionLog.Where(p => p.Time < cutoff).OrderBy(p => p.Time).Take(BatchSize).Select(p => p.Id).ToListAsync(ct);
            if (batch.Count == 0)
            {
                break;
            }
            purged += await db.PredictionLog.Where(p => batch.Contains(p.Id)).ExecuteDeleteAsync(ct);
        }
        // The drift counts of buckets that began before the cutoff: derived from rows now gone (or going).
        await using (var db = store.CreateDbContext())
        {
            await db.DriftCounts.Where(c => c.BucketStart < cutoff).ExecuteDeleteAsync(ct);
        }
        if (purged > 0)
        {
            log.LogInformation("Purged {Rows} logged predictions older than {Cutoff:u}.", purged, cutoff);
        }
        return purged;
    }
}

/// <summary>Runs <see cref="RetentionPurge"/> every hour; a failed purge is logged and retried at the next hour.</summary>
public sealed class RetentionJob(RetentionPurge purge, LeaderElection leader, TimeProvider time, ILogger<RetentionJob> log)
    : LeaderIntervalJob(leader, time, log)
{
    protected override TimeSpan Interval { get; } = TimeSpan.FromHours(1);

    protected override string PassName => "Purging old prediction logs";

    protected override Task RunPassAsync(CancellationToken stoppingToken) => purge.RunAsync(stoppingToken);
}
