using Churn.Data;
using Churn.Data.Registry;
using Churn.Data.Retraining;
using Churn.Data.Settings;
using Churn.Data.Store;
using Churn.Data.Tracking;
using Churn.Server.Coordination;
using Churn.Server.Hosting;
using Churn.Server.Models;
using Churn.Server.Settings;
using Microsoft.Extensions.Options;

namespace Churn.Server.Jobs;

/// <summary>
/// The server's side of a retraining (<see cref="ChallengerRetraining"/> does the training and the decision): it competes
/// with the serving champion, reads the margin from the runtime settings, finds the reference data (the sample generated at
/// first start, else the champion's own training file) and promotes by loading and warming the new version before the
/// alias moves, so requests never wait for a cold model. One training at a time across replicas, by <see cref="TrainingLock"/>
/// (Redis when configured, else the store lock that <c>churn retrain</c> also takes).
/// </summary>
public sealed class ChallengerTraining(
    RunTracker runs,
    ModelRegistry registry,
    ModelHost host,
    ModelLoader loader,
    StoreFactory store,
    StoreLock locks,
    TrainingLock trainingLock,
    RuntimeSettings settings,
    IOptions<ServerOptions> options,
    TimeProvider time,
    ILogger<ChallengerTraining> log)
{
    public const string LockName = ChallengerRetraining.LockName;

    private readonly ChallengerRetraining retraining = new(runs, registry, store, locks, time);

    /// <summary>
    /// Frees the training lock when its holder was a process that no longer runs (killed mid-training): an earlier run of
    /// this replica, or a `churn retrain` process of this machine that is gone. Holders elsewhere are left to expire.
    /// </summary>
    public async Task ReleaseAbandonedLockAsync(CancellationToken ct)
    {
        // The replicas' lock (Redis or the store), as held by a killed earlier run of this same replica.
        await trainingLock.ReleaseIfLeftByThisInstanceAsync(ct);
        // The store lock as held by `churn retrain` (machine:pid:...), when that process is gone.
        if (await locks.HolderAsync(LockName, ct) is not { } holder)
        {
            return;
        }
        var parts = holder.Split(':');
        if (parts.Length < 3 || parts[0] != Environment.MachineName || !int.TryParse(parts[1], out var pid))
        {
            return;
        }
        // This process has not started a training yet, so a holder with its own id is a previous life of it (a container's pid 1).
        var alive = pid != Environment.ProcessId && ProcessExists(pid);
        if (!alive)
        {
            await locks.ReleaseAsync(LockName, holder, ct);
            log.LogWarning("Released the training lock held by {Holder}: that process is gone.", holder);
        }
    }

    private static bool ProcessExists(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    public async Task<RetrainOutcome> RunAsync(RetrainOrder order, IProgress<double>? progress, CancellationToken ct)
    {
        // POST /retrain takes the lock before answering (so a second request is refused at once); other orders take it here.
        await using var held = order.Lock ?? await trainingLock.TryTakeAsync($"job-{order.JobId:N}", ct)
            ?? throw new TrainingLockedException(await trainingLock.HolderAsync(ct));
        var champion = host.Require();
        var o = options.Value;
        var sample = ModelTraining.SamplePath(o.DataDir, new TrainingRequest(o.SampleRows, o.SampleSeed, 0));
        var reference = ChallengerRetraining.FindReference(o.DataDir, champion.Card, sample)
            ?? throw new FileNotFoundException($"No reference data to retrain on: neither {sample} nor the champion's training file is in the data directory.");
        var trainingBase = order.Generated is { } generated ? await ModelTraining.EnsureSampleAsync(o.DataDir, generated, ct) : null;
        var outcome = await retraining.TrainAndDecideAsync(
            new RetrainChampion(champion.Name, champion.Version, champion.Scorer.Model),
            new ChallengerOrder(order.Trigger, order.RequestedBy, order.Reason, reference, trainingBase, order.Seed),
            settings.Model.PromotionMargin,
            (version, reason, token) => loader.MoveChampionAsync(version, t => registry.PromoteAsync(champion.Name, version, ModelAliases.Champion, order.RequestedBy, reason, t), token),
            progress,
            ct);
        log.LogInformation("Retraining of {Model} ({Trigger}): {Message}", champion.Name, order.Trigger, outcome.Message);
        return outcome;
    }
}
