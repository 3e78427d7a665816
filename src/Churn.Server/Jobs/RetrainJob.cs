using System.Threading.Channels;
using Churn.Data.Tracking;
using Churn.Server.Coordination;
using Churn.Server.Models;
using Churn.Server.Settings;

namespace Churn.Server.Jobs;

/// <summary>
/// A queued retraining: its job, why it runs, and (for demos and tests) an optional generated sample that replaces
/// the reference data in the training set; the held-out rows always come from the reference data and feedback.
/// <paramref name="Lock"/> is the training lock when the caller already took it (the training releases it).
/// </summary>
public sealed record RetrainOrder(
    Guid JobId, RunTrigger Trigger, string RequestedBy, string Reason, TrainingRequest? Generated = null, int? Seed = null, HeldLock? Lock = null);

/// <summary>
/// Accepts at most one retraining at a time (queued or running) in this process: a second request while one is under
/// way is refused rather than queued, since it would train on the same data. Across processes the store lock decides.
/// </summary>
public sealed class RetrainQueue(JobBoard board, ILogger<RetrainQueue> log)
{
    private readonly Channel<RetrainOrder> channel = Channel.CreateBounded<RetrainOrder>(1);
    private int busy;

    public ChannelReader<RetrainOrder> Reader => channel.Reader;

    public bool TryEnqueue(RetrainOrder order)
    {
        if (Interlocked.CompareExchange(ref busy, 1, 0) != 0)
        {
            return false;
        }
        if (!channel.Writer.TryWrite(order))
        {
            Volatile.Write(ref busy, 0);
            return false;
        }
        return true;
    }

    /// <summary>A retraining asked for by monitoring or the schedule; null (and logged) when one is already under way.</summary>
    public JobState? RequestAutomatic(RunTrigger trigger, string reason) => Request(trigger, "monitoring", reason);

    /// <summary>
    /// Queues a retraining as a new job on the board (what <c>POST /retrain</c> and the dashboard's "Retrain now" both do);
    /// null when one is already under way, in which case the refused job is marked failed so the board says why.
    /// </summary>
    public JobState? Request(RunTrigger trigger, string requestedBy, string reason, TrainingRequest? generated = null, int? seed = null)
    {
        var job = board.Create("retrain", requestedBy);
        if (!TryEnqueue(new RetrainOrder(job.Id, trigger, requestedBy, reason, generated, seed)))
        {
            board.Fail(job.Id, "Another retraining is under way.");
            log.LogInformation("Retraining ({Trigger}) not started: another one is under way.", trigger);
            return null;
        }
        log.LogInformation("Retraining ({Trigger}) queued as job {Job}: {Reason}", trigger, job.Id, reason);
        return job;
    }

    /// <summary>
    /// Queues a retraining asked for by a user (<c>POST /retrain</c>, the dashboard's "Retrain now"), taking the training
    /// lock first so that a request to another replica while this one trains is refused at once. Returns the job, or
    /// null and the reason to give the user.
    /// </summary>
    public async Task<(JobState? Job, string? Refusal)> RequestLockedAsync(
        TrainingLock trainingLock, RunTrigger trigger, string requestedBy, string reason, TrainingRequest? generated = null, int? seed = null,
        CancellationToken cancellationToken = default)
    {
        var job = board.Create("retrain", requestedBy);
        var held = await trainingLock.TryTakeAsync($"job-{job.Id:N}", cancellationToken);
        if (held is null)
        {
            var holder = await trainingLock.HolderAsync(cancellationToken);
            board.Fail(job.Id, "Another training is under way.");
            return (null, $"Only one training runs at a time across all replicas{(holder is null ? "" : $" (now: {holder})")}; try again when it has finished.");
        }
        if (!TryEnqueue(new RetrainOrder(job.Id, trigger, requestedBy, reason, generated, seed, held)))
        {
            await held.DisposeAsync();
            board.Fail(job.Id, "Another retraining is under way.");
            return (null, "Only one retraining runs at a time; poll the running job and try again when it has finished.");
        }
        log.LogInformation("Retraining ({Trigger}) queued as job {Job}: {Reason}", trigger, job.Id, reason);
        return (job, null);
    }

    public void Done() => Volatile.Write(ref busy, 0);
}

/// <summary>Runs retraining off the request path, one order at a time; a failed training fails its job and the next order runs.</summary>
public sealed class RetrainJob(RetrainQueue queue, JobBoard board, ChallengerTraining training, ILogger<RetrainJob> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await training.ReleaseAbandonedLockAsync(stoppingToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            log.LogWarning(ex, "Could not check the training lock for an abandoned holder.");
        }
        await foreach (var order in queue.Reader.ReadAllAsync(stoppingToken))
        {
            try
            {
                board.Start(order.JobId);
                var progress = new Progress<double>(p => board.Progress(order.JobId, p));
                var outcome = await training.RunAsync(order, progress, stoppingToken);
                board.Succeed(order.JobId, outcome.Message, outcome.Version);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                board.Fail(order.JobId, "The server stopped during training.");
                return;
            }
            catch (Exception ex)
            {
                // One failed training must not stop the job: log it, report it on the job and take the next order.
                log.LogError(ex, "Retraining job {Job} failed.", order.JobId);
                board.Fail(order.JobId, ex.Message);
            }
            finally
            {
                queue.Done();
            }
        }
    }
}

/// <summary>Asks for a retraining every <c>model.retrain_interval</c> when that is set; checks the setting once a minute otherwise.</summary>
public sealed class RetrainScheduleJob(RetrainQueue queue, LeaderElection leader, RuntimeSettings settings, TimeProvider time, ILogger<RetrainScheduleJob> log)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var interval = settings.Model.RetrainInterval;
            await Task.Delay(interval > TimeSpan.Zero ? interval : TimeSpan.FromMinutes(1), time, stoppingToken);
            // One replica keeps the schedule; the others would only be refused by the training lock.
            if (interval <= TimeSpan.Zero || settings.Model.RetrainInterval <= TimeSpan.Zero || !leader.IsLeader)
            {
                continue;
            }
            try
            {
                queue.RequestAutomatic(RunTrigger.Schedule, $"scheduled every {interval}");
            }
            catch (Exception ex)
            {
                log.LogError(ex, "Could not queue the scheduled retraining.");
            }
        }
    }
}
