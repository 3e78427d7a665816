using System.Threading.Channels;
using Churn.Data.Tracking;
using Churn.Server.Models;
using Churn.Server.Settings;

namespace Churn.Server.Jobs;

/// <summary>
/// A queued retraining: its job, why it runs, and (for demos and tests) an optional generated sample that replaces
/// the reference data in the training set; the held-out rows always come from the reference data and feedback.
/// </summary>
public sealed record RetrainOrder(Guid JobId, RunTrigger Trigger, string RequestedBy, string Reason, TrainingRequest? Generated = null, int? Seed = null);

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
    public JobState? RequestAutomatic(RunTrigger trigger, string reason)
    {
        var job = board.Create("retrain", "monitoring");
        if (!TryEnqueue(new RetrainOrder(job.Id, trigger, "monitoring", reason)))
        {
            board.Fail(job.Id, "Another retraining is under way.");
            log.LogInformation("Retraining ({Trigger}) not started: another one is under way.", trigger);
            return null;
        }
        log.LogInformation("Retraining ({Trigger}) queued as job {Job}: {Reason}", trigger, job.Id, reason);
        return job;
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
public sealed class RetrainScheduleJob(RetrainQueue queue, RuntimeSettings settings, TimeProvider time, ILogger<RetrainScheduleJob> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var interval = settings.Model.RetrainInterval;
            await Task.Delay(interval > TimeSpan.Zero ? interval : TimeSpan.FromMinutes(1), time, stoppingToken);
            if (interval <= TimeSpan.Zero || settings.Model.RetrainInterval <= TimeSpan.Zero)
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
