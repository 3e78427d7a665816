using System.Threading.Channels;
using Churn.Data.Retraining;
using Churn.Data.Settings;
using Churn.Data.Tracking;
using Churn.Server.Jobs;

namespace Churn.Server.Retraining;

/// <summary>
/// The server's one way to ask for a retraining (<c>POST /retrain</c>, the dashboard's "Retrain now", the schedule and
/// monitoring all call <see cref="RequestAsync"/>): it creates the job, takes the training lock at once (so a request
/// while this replica, another one or <c>churn retrain</c> trains is refused on the spot), queues the order for
/// <see cref="RetrainJob"/> and audits it. At most one retraining is queued or running in this process.
/// </summary>
public sealed class RetrainQueue(JobBoard board, TrainingLock trainingLock, AuditLog audit, IOptions<ServerOptions> options, ILogger<RetrainQueue> log)
{
    private readonly Channel<(Guid JobId, RetrainOrder Order, HeldLock Lock)> channel = Channel.CreateBounded<(Guid, RetrainOrder, HeldLock)>(1);
    private int busy;

    internal ChannelReader<(Guid JobId, RetrainOrder Order, HeldLock Lock)> Reader => channel.Reader;

    /// <summary>
    /// Queues <paramref name="order"/> as a new job on the board. Returns the job, or null and the reason to give whoever
    /// asked; a refused job is marked failed so the board says why.
    /// </summary>
    public async Task<(JobState? Job, string? Refusal)> RequestAsync(RetrainOrder order, CancellationToken cancellationToken)
    {
        var job = board.Create("retrain", order.RequestedBy.Name);
        if (Interlocked.CompareExchange(ref busy, 1, 0) != 0)
        {
            return Refuse(job, order, "Only one retraining runs at a time; poll the running job and try again when it has finished.");
        }
        HeldLock? held;
        try
        {
            held = await trainingLock.TryTakeAsync(TrainingLock.ReplicaHolder(options.Value.InstanceId, $"job-{job.Id:N}"), cancellationToken);
        }
        catch
        {
            Done();
            board.Fail(job.Id, "Could not take the training lock.");
            throw;
        }
        if (held is null)
        {
            Done();
            var holder = await trainingLock.HolderAsync(cancellationToken);
            return Refuse(job, order, $"Only one training runs at a time across all replicas{(holder is null ? "" : $" (now: {holder})")}; try again when it has finished.");
        }
        // The channel holds one order and busy admits one, so the write cannot fail.
        channel.Writer.TryWrite((job.Id, order, held));
        log.LogInformation("Retraining ({Trigger}) queued as job {Job}: {Reason}", order.Trigger, job.Id, order.Reason);
        await audit.RecordAsync(order.RequestedBy, "model.retrain", job.Id.ToString(),
            new { trigger = order.Trigger.ToString(), order.Reason, order.Seed, rows = order.Sample?.Rows, drift = order.Sample?.Drift });
        return (job, null);
    }

    /// <summary>A retraining asked for by monitoring or the schedule; started without waiting, and logged when refused.</summary>
    public void RequestAutomatic(RunTrigger trigger, string reason) =>
        _ = RequestAutomaticAsync(new RetrainOrder(trigger, AuditActor.ThisMachine(trigger == RunTrigger.Schedule ? "schedule" : "monitoring"), reason));

    private async Task RequestAutomaticAsync(RetrainOrder order)
    {
        try
        {
            await RequestAsync(order, CancellationToken.None);
        }
        catch (Exception ex)
        {
            log.LogError(ex, "Could not queue the retraining ({Trigger}).", order.Trigger);
        }
    }

    internal void Done() => Volatile.Write(ref busy, 0);

    private (JobState? Job, string? Refusal) Refuse(JobState job, RetrainOrder order, string refusal)
    {
        board.Fail(job.Id, refusal);
        log.LogInformation("Retraining ({Trigger}) not started: {Refusal}", order.Trigger, refusal);
        return (null, refusal);
    }
}
