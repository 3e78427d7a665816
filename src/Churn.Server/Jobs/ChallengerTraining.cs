using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Churn.Core.Data;
using Churn.Core.Evaluation;
using Churn.Core.Training;
using Churn.Data;
using Churn.Data.Registry;
using Churn.Data.Settings;
using Churn.Data.Store;
using Churn.Data.Tracking;
using Churn.Server.Hosting;
using Churn.Server.Models;
using Churn.Server.Monitoring;
using Churn.Server.Security;
using Churn.Server.Settings;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Churn.Server.Jobs;

/// <summary>What a retraining produced and what was decided about it.</summary>
public sealed record RetrainOutcome(int Version, bool Promoted, double ChampionAuc, double ChallengerAuc, int HeldOutRows, int FeedbackRows, string Message);

/// <summary>Thrown when another process or replica holds the training lock.</summary>
public sealed class TrainingLockedException(string? holder)
    : Exception($"Another training is under way{(holder is null ? "" : $" ({holder})")}; only one runs at a time.");

/// <summary>
/// Trains a challenger on the reference data plus labelled feedback, registers it, and promotes it to champion only when
/// it beats the champion on the same held-out rows by <c>model.promotion_margin</c>; otherwise the reason is audited and
/// reported on the job. One training at a time across replicas, by a lock in the store.
/// </summary>
public sealed class ChallengerTraining(
    RunTracker runs,
    ModelRegistry registry,
    ModelHost host,
    ModelLoader loader,
    StoreFactory store,
    StoreLock locks,
    RuntimeSettings settings,
    AuditLog audit,
    IOptions<ServerOptions> options,
    TimeProvider time,
    ILogger<ChallengerTraining> log)
{
    public const string LockName = "training";

    /// <summary>A training that takes longer than this loses the lock; it is far above any training this server runs.</summary>
    public static readonly TimeSpan LockTtl = TimeSpan.FromHours(2);

    public const double HeldOutFraction = 0.2;

    /// <summary>
    /// Frees the training lock when its holder was a process of this machine that no longer runs (killed mid-training),
    /// so a restarted server does not wait out the lock's two-hour expiry. Holders on other machines are left to expire.
    /// </summary>
    public async Task ReleaseAbandonedLockAsync(CancellationToken ct)
    {
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
        var holder = $"{Environment.MachineName}:{Environment.ProcessId}:{order.JobId:N}";
        if (!await locks.TryAcquireAsync(LockName, holder, LockTtl, ct))
        {
            throw new TrainingLockedException(await locks.HolderAsync(LockName, ct));
        }
        try
        {
            return await TrainAndDecideAsync(order, progress, ct);
        }
        finally
        {
            await locks.ReleaseAsync(LockName, holder, CancellationToken.None);
        }
    }

    private async Task<RetrainOutcome> TrainAndDecideAsync(RetrainOrder order, IProgress<double>? progress, CancellationToken ct)
    {
        var champion = host.Require();
        var o = options.Value;
        var seed = order.Seed ?? (int)(time.GetUtcNow().ToUnixTimeSeconds() % int.MaxValue);
        var referencePath = ReferencePath(champion);
        var reference = DatasetLoader.Load(referencePath, champion.Schema);
        var feedback = await FeedbackAsync(champion, ct);

        // The held-out rows: when the champion was trained on the reference file, exactly its own test split (rows it
        // never saw), so the comparison is fair to both; otherwise a seeded split of the reference.
        var sameData = champion.Card.DataFingerprint == reference.Fingerprint;
        var (referenceTrain, referenceTest) = DataSplits.StratifiedSplit(
            reference.RequireLabels(), sameData ? (double)champion.Card.TestRows / (champion.Card.TestRows + champion.Card.TrainRows) : HeldOutFraction,
            sameData ? champion.Card.Seed : seed);
        int[] feedbackTrain = [.. Enumerable.Range(0, feedback.RowCount)], feedbackTest = [];
        if (feedback.RowCount >= 20 && feedback.Labels!.Any(l => l) && !feedback.Labels!.All(l => l))
        {
            (feedbackTrain, feedbackTest) = DataSplits.StratifiedSplit(feedback.Labels, HeldOutFraction, seed);
        }
        var heldOut = Dataset.Concat(reference.Select(referenceTest), feedback.Select(feedbackTest), "held-out");
        var trainingBase = order.Generated is { } generated
            ? DatasetLoader.Load(await ModelTraining.EnsureSampleAsync(o.DataDir, generated, ct), champion.Schema)
            : reference.Select(referenceTrain);
        var fingerprint = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(
            $"{trainingBase.Fingerprint}|{string.Join(',', feedbackTrain.Select(r => feedback.Ids[r]))}|{feedback.Fingerprint}")));
        var trainingData = Dataset.Concat(trainingBase, feedback.Select(feedbackTrain), fingerprint);

        var trainingOptions = new TrainingOptions { ModelName = champion.Name, Seed = seed, DataSource = Path.GetFileName(referencePath) };
        var parameters = RecordedTraining.Parameters(trainingOptions, Path.GetFileName(referencePath));
        parameters["reason"] = order.Reason;
        parameters["feedbackRows"] = feedback.RowCount.ToString(CultureInfo.InvariantCulture);
        parameters["heldOutRows"] = heldOut.RowCount.ToString(CultureInfo.InvariantCulture);
        parameters["generatedRows"] = order.Generated?.Rows.ToString(CultureInfo.InvariantCulture) ?? "";
        var trainingProgress = new Progress<TrainingProgress>(p => progress?.Report(p.Fraction * 0.9));
        var outcome = await RecordedTraining.RunAsync(runs, registry, o.DataDir, champion.Name, order.Trigger, order.RequestedBy, promote: false,
            parameters, fingerprint, token => ChurnTrainer.Train(trainingData, trainingOptions, trainingProgress, token).Model, ct);
        var version = outcome.Version.Version;
        await registry.PromoteAsync(champion.Name, version, ModelAliases.Challenger, order.RequestedBy, $"retrained ({order.Trigger.ToString().ToLowerInvariant()}): {order.Reason}", ct);

        var labels = heldOut.RequireLabels();
        var championAuc = BinaryMetrics.Auc(champion.Scorer.Model.Score(heldOut), labels);
        var challengerAuc = BinaryMetrics.Auc(outcome.Model.Score(heldOut), labels);
        var margin = settings.Model.PromotionMargin;
        var details = new { championVersion = champion.Version, challengerVersion = version, championAuc, challengerAuc, margin, heldOutRows = heldOut.RowCount, trigger = order.Trigger.ToString() };
        progress?.Report(0.95);
        if (challengerAuc >= championAuc + margin)
        {
            var reason = $"challenger v{version} AUC {challengerAuc:0.0000} beats champion v{champion.Version} AUC {championAuc:0.0000} by at least {margin:0.0000} on {heldOut.RowCount} held-out rows";
            await loader.MoveChampionAsync(version, token => registry.PromoteAsync(champion.Name, version, ModelAliases.Champion, order.RequestedBy, reason, token), ct);
            await audit.RecordAsync(order.RequestedBy, "model.promote", $"{champion.Name}:v{version}", details, "local");
            log.LogInformation("Promoted {Model} v{Version}: {Reason}.", champion.Name, version, reason);
            return new RetrainOutcome(version, true, championAuc, challengerAuc, heldOut.RowCount, feedback.RowCount, $"Promoted v{version} to champion: {reason}.");
        }
        var why = $"challenger v{version} AUC {challengerAuc:0.0000} does not beat champion v{champion.Version} AUC {championAuc:0.0000} by the margin {margin:0.0000} on {heldOut.RowCount} held-out rows";
        await audit.RecordAsync(order.RequestedBy, "model.promotion_refused", $"{champion.Name}:v{version}", new { details, reason = why }, "local");
        log.LogInformation("Kept {Model} v{Version} as challenger: {Reason}.", champion.Name, version, why);
        return new RetrainOutcome(version, false, championAuc, challengerAuc, heldOut.RowCount, feedback.RowCount, $"Registered v{version} as challenger, not promoted: {why}.");
    }

    /// <summary>The sample generated at first start, else the champion's own training file from the data directory.</summary>
    private string ReferencePath(ServingModel champion)
    {
        var o = options.Value;
        var sample = ModelTraining.SamplePath(o.DataDir, new TrainingRequest(o.SampleRows, o.SampleSeed, 0));
        if (File.Exists(sample))
        {
            return sample;
        }
        if (champion.Card.DataSource is { Length: > 0 } source && File.Exists(Path.Combine(o.DataDir, "data", Path.GetFileName(source))))
        {
            return Path.Combine(o.DataDir, "data", Path.GetFileName(source));
        }
        throw new FileNotFoundException($"No reference data to retrain on: neither {sample} nor the champion's training file is in the data directory.");
    }

    /// <summary>Labelled feedback joined to the logged inputs of its predictions (the latest outcome per prediction).</summary>
    private async Task<Dataset> FeedbackAsync(ServingModel champion, CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        var joined = await (from f in db.Feedback.AsNoTracking()
                            join p in db.PredictionLog.AsNoTracking() on f.PredictionId equals p.Id
                            where p.ModelName == champion.Name
                            orderby f.Id
                            select new { p.Id, p.CustomerId, p.InputsJson, f.Churned }).ToListAsync(ct);
        var latest = joined.GroupBy(j => j.Id).Select(g => g.Last()).OrderBy(j => j.Id).ToList();
        return LoggedInputs.ToDataset(
            champion.Schema,
            [.. latest.Select(j => (j.CustomerId, j.InputsJson))],
            [.. latest.Select(j => j.Churned)],
            "feedback-" + latest.Count.ToString(CultureInfo.InvariantCulture));
    }
}
