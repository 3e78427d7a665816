using Churn.Server.Coordination;

namespace Churn.Server.Campaigns;

/// <summary>
/// Reads the results of every running campaign (started, and not yet past its end plus one outcome window), so a campaign
/// that pushes customers away raises its alert without anyone opening its results.
/// </summary>
public sealed class CampaignWatch(StoreFactory store, CampaignBook book, TimeProvider time)
{
    /// <summary>Checks every running campaign once; returns the campaigns checked.</summary>
    public async Task<IReadOnlyList<Guid>> CheckAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        List<(Guid Id, DateTimeOffset? EndsAt, int Window)> running;
        await using (var db = store.CreateDbContext())
        {
            var started = await db.Campaigns.AsNoTracking().Where(c => c.StartsAt <= now)
                .Select(c => new { c.Id, c.EndsAt, c.OutcomeWindowDays }).ToListAsync(ct);
            running = [.. started.Where(c => c.EndsAt is null || c.EndsAt.Value.AddDays(c.OutcomeWindowDays) >= now).Select(c => (c.Id, c.EndsAt, c.OutcomeWindowDays))];
        }
        foreach (var campaign in running)
        {
            await book.ResultsAsync(campaign.Id, ct);
        }
        return [.. running.Select(c => c.Id)];
    }
}

/// <summary>
/// Runs <see cref="CampaignWatch"/> every <c>monitoring.check_interval</c> on the leader; a failed pass is logged and the
/// next one runs on time.
/// </summary>
public sealed class CampaignWatchJob(CampaignWatch watch, LeaderElection leader, RuntimeSettings settings, TimeProvider time, ILogger<CampaignWatchJob> log)
    : LeaderIntervalJob(leader, time, log)
{
    protected override TimeSpan Interval => settings.Monitoring.CheckInterval;

    protected override string PassName => "The campaign check";

    protected override Task RunPassAsync(CancellationToken stoppingToken) => watch.CheckAsync(stoppingToken);
}
