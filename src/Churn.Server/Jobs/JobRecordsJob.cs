using Churn.Server.Coordination;

namespace Churn.Server.Jobs;

/// <summary>
/// Keeps the store's <c>jobs</c> table in step with the <see cref="JobBoard"/>: at start it fails what an earlier process
/// of this replica left queued or running (it was killed: nothing will finish those); then it writes changed jobs a
/// moment after they change (progress is coalesced), retries while the store is away, and writes the last states on a
/// clean stop. The leader deletes jobs finished longer ago than <see cref="ServerOptions.JobRetention"/>, with their files.
/// </summary>
public sealed class JobRecordsJob(JobBoard board, JobRecords records, LeaderElection leader, IOptions<ServerOptions> options, TimeProvider time, ILogger<JobRecordsJob> log)
    : BackgroundService
{
    /// <summary>Changes within this interval are written together.</summary>
    public static readonly TimeSpan Coalesce = TimeSpan.FromMilliseconds(250);

    private static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan PurgeEvery = TimeSpan.FromHours(1);

    private readonly DateTimeOffset started = time.GetUtcNow();
    private bool recovered;
    private DateTimeOffset nextPurge = DateTimeOffset.MinValue;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // Before requests are taken, when the store answers; otherwise the loop below keeps trying.
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(TimeSpan.FromSeconds(15));
        await RecoverAsync(limit.Token);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // Woken by a change, or every few seconds to recover or purge.
                if (await board.WaitForChangesAsync(RetryAfter, stoppingToken))
                {
                    await Task.Delay(Coalesce, time, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            if (!recovered)
            {
                await RecoverAsync(stoppingToken);
            }
            await SaveAsync(stoppingToken);
            await PurgeIfDueAsync(stoppingToken);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        // The other jobs stopped before this one (registered later, stopped earlier): their last states are written now.
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(TimeSpan.FromSeconds(10));
        await SaveAsync(limit.Token);
    }

    private async Task SaveAsync(CancellationToken cancellationToken)
    {
        var states = board.TakeUnsaved();
        if (states.Count == 0)
        {
            return;
        }
        try
        {
            await records.SaveAsync(states, cancellationToken);
        }
        catch (Exception ex)
        {
            log.LogWarning(ex, "Could not write {Count} job state(s) to the store; retrying in {Delay}.", states.Count, RetryAfter);
            board.Requeue(states);
        }
    }

    private async Task RecoverAsync(CancellationToken cancellationToken)
    {
        var instance = options.Value.InstanceId;
        try
        {
            var failed = await records.FailAbandonedAsync(instance, started,
                $"The server ({instance}) stopped before the job finished (it was killed or crashed), so the job was abandoned; submit it again.", cancellationToken);
            recovered = true;
            if (failed > 0)
            {
                log.LogWarning("Marked {Count} job(s) failed that an earlier run of {Instance} left queued or running.", failed, instance);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            log.LogWarning(ex, "Could not check the store for jobs an earlier run left unfinished; retrying.");
        }
        catch (OperationCanceledException)
        {
            log.LogWarning("The store did not answer in time to check for jobs an earlier run left unfinished; retrying in the background.");
        }
    }

    private async Task PurgeIfDueAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (now < nextPurge || !leader.IsLeader)
        {
            return;
        }
        nextPurge = now + PurgeEvery;
        try
        {
            var purged = await records.PurgeAsync(now - options.Value.JobRetention, cancellationToken);
            if (purged > 0)
            {
                log.LogInformation("Deleted {Count} job(s) finished more than {Retention} ago, with their files.", purged, options.Value.JobRetention);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            nextPurge = now + RetryAfter;
            log.LogWarning(ex, "Could not delete old jobs; retrying.");
        }
    }
}
