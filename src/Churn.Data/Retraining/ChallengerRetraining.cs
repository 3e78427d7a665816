using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Churn.Core.Data;
using Churn.Core.Evaluation;
using Churn.Core.Models;
using Churn.Core.Training;
using Churn.Data.Predictions;
using Churn.Data.Registry;
using Churn.Data.Security;
using Churn.Data.Settings;
using Churn.Data.Store;
using Churn.Data.Tracking;
using Microsoft.EntityFrameworkCore;

namespace Churn.Data.Retraining;

/// <summary>The champion a retraining competes with: its registered name and version and the loaded model.</summary>
public sealed record RetrainChampion(string Name, int Version, ChurnModel Model);

/// <summary>
/// One retraining: why it runs and who asked, the reference data file, and optionally a different training base (a
/// generated sample, for demos and tests) that replaces the reference rows in training; held-out rows always come from
/// the reference data and feedback.
/// </summary>
public sealed record ChallengerOrder(RunTrigger Trigger, string RequestedBy, string Reason, string ReferencePath, string? TrainingBasePath = null, int? Seed = null);

/// <summary>What a retraining produced and what was decided about it.</summary>
public sealed record RetrainOutcome(int Version, bool Promoted, double ChampionAuc, double ChallengerAuc, int HeldOutRows, int FeedbackRows, string Message);

/// <summary>Thrown when another process or replica holds the training lock.</summary>
public sealed class TrainingLockedException(string? holder)
    : Exception($"Another training is under way{(holder is null ? "" : $" ({holder})")}; only one runs at a time.");

/// <summary>
/// Trains a challenger on the reference data plus labelled feedback, registers it, and promotes it to champion only when
/// it beats the champion on the same held-out rows by the promotion margin; otherwise the reason is audited and returned.
/// One training at a time across processes and replicas, by a lock in the store. The server's retrain job and
/// <c>churn retrain</c> both run this, so a decision never depends on where the retraining was started.
/// </summary>
public sealed class ChallengerRetraining(RunTracker runs, ModelRegistry registry, StoreFactory store, StoreLock locks, TimeProvider time)
{
    public const string LockName = "training";

    /// <summary>A training that takes longer than this loses the lock; it is far above any training this product runs.</summary>
    public static readonly TimeSpan LockTtl = TimeSpan.FromHours(2);

    public const double HeldOutFraction = 0.2;

    /// <summary>The promotion margin (AUC) when an operator has not set <c>model.promotion_margin</c>.</summary>
    public const double DefaultPromotionMargin = 0.005;

    /// <summary>
    /// Takes the training lock as <paramref name="holder"/>, trains and decides. <paramref name="promote"/> moves the champion
    /// alias to a version with a reason (the server loads and warms the version first; the command line only moves the alias).
    /// </summary>
    public async Task<RetrainOutcome> RunAsync(
        RetrainChampion champion,
        ChallengerOrder order,
        double margin,
        string holder,
        Func<int, string, CancellationToken, Task> promote,
        IProgress<double>? progress,
        CancellationToken ct)
    {
        if (!await locks.TryAcquireAsync(LockName, holder, LockTtl, ct))
        {
            throw new TrainingLockedException(await locks.HolderAsync(LockName, ct));
        }
        try
        {
            return await TrainAndDecideAsync(champion, order, margin, promote, progress, ct);
        }
        finally
        {
            await locks.ReleaseAsync(LockName, holder, CancellationToken.None);
        }
    }

    /// <summary>
    /// The reference data of a data directory: the first of <paramref name="preferred"/> that exists, else the champion's
    /// own training file under <c>data/</c>; null when there is neither.
    /// </summary>
    public static string? FindReference(string dataDir, ModelCard champion, params string[] preferred)
    {
        foreach (var path in preferred)
        {
            if (File.Exists(path))
            {
                return path;
            }
        }
        var own = champion.DataSource is { Length: > 0 } source ? Path.Combine(dataDir, "data", Path.GetFileName(source)) : null;
        return own is not null && File.Exists(own) ? own : null;
    }

    /// <summary>Trains and decides without taking the lock: for a caller that already holds the training lock its own way (the server's replicas).</summary>
    public async Task<RetrainOutcome> TrainAndDecideAsync(
        RetrainChampion champion, ChallengerOrder order, double margin, Func<int, string, CancellationToken, Task> promote, IProgress<double>? progress, CancellationToken ct)
    {
        var card = champion.Model.Card;
        var seed = order.Seed ?? (int)(time.GetUtcNow().ToUnixTimeSeconds() % int.MaxValue);
        var reference = DatasetLoader.Load(order.ReferencePath, card.Schema);
        var feedback = await FeedbackAsync(champion, ct);

        // The held-out rows: when the champion was trained on the reference file, exactly its own test split (rows it
        // never saw), so the comparison is fair to both; otherwise a seeded split of the reference.
        var sameData = card.DataFingerprint == reference.Fingerprint;
        var (referenceTrain, referenceTest) = DataSplits.StratifiedSplit(
            reference.RequireLabels(), sameData ? (double)card.TestRows / (card.TestRows + card.TrainRows) : HeldOutFraction,
            sameData ? card.Seed : seed);
        int[] feedbackTrain = [.. Enumerable.Range(0, feedback.RowCount)], feedbackTest = [];
        if (feedback.RowCount >= 20 && feedback.Labels!.Any(l => l) && !feedback.Labels!.All(l => l))
        {
            (feedbackTrain, feedbackTest) = DataSplits.StratifiedSplit(feedback.Labels, HeldOutFraction, seed);
        }
        var heldOut = Dataset.Concat(reference.Select(referenceTest), feedback.Select(feedbackTest), "held-out");
        var trainingBase = order.TrainingBasePath is { } basePath ? DatasetLoader.Load(basePath, card.Schema) : reference.Select(referenceTrain);
        var fingerprint = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(
            $"{trainingBase.Fingerprint}|{string.Join(',', feedbackTrain.Select(r => feedback.Ids[r]))}|{feedback.Fingerprint}")));
        var trainingData = Dataset.Concat(trainingBase, feedback.Select(feedbackTrain), fingerprint);

        var referenceName = Path.GetFileName(order.ReferencePath);
        var trainingOptions = new TrainingOptions { ModelName = champion.Name, Seed = seed, DataSource = referenceName };
        var parameters = RecordedTraining.Parameters(trainingOptions, referenceName);
        parameters["reason"] = order.Reason;
        parameters["feedbackRows"] = feedback.RowCount.ToString(CultureInfo.InvariantCulture);
        parameters["heldOutRows"] = heldOut.RowCount.ToString(CultureInfo.InvariantCulture);
        parameters["trainingBase"] = order.TrainingBasePath is null ? "" : Path.GetFileName(order.TrainingBasePath);
        var trainingProgress = new Progress<TrainingProgress>(p => progress?.Report(p.Fraction * 0.9));
        var outcome = await RecordedTraining.RunAsync(runs, registry, store.DataDir, champion.Name, order.Trigger, order.RequestedBy, promote: false,
            parameters, fingerprint, token => ChurnTrainer.Train(trainingData, trainingOptions, trainingProgress, token).Model, ct);
        var version = outcome.Version.Version;
        await registry.PromoteAsync(champion.Name, version, ModelAliases.Challenger, order.RequestedBy, $"retrained ({order.Trigger.ToString().ToLowerInvariant()}): {order.Reason}", ct);

        var labels = heldOut.RequireLabels();
        var championAuc = BinaryMetrics.Auc(champion.Model.Score(heldOut), labels);
        var challengerAuc = BinaryMetrics.Auc(outcome.Model.Score(heldOut), labels);
        var details = new { championVersion = champion.Version, challengerVersion = version, championAuc, challengerAuc, margin, heldOutRows = heldOut.RowCount, trigger = order.Trigger.ToString() };
        progress?.Report(0.95);
        if (challengerAuc >= championAuc + margin)
        {
            var reason = $"challenger v{version} AUC {challengerAuc:0.0000} beats champion v{champion.Version} AUC {championAuc:0.0000} by at least {margin:0.0000} on {heldOut.RowCount} held-out rows";
            await promote(version, reason, ct);
            await AuditAsync(order.RequestedBy, "model.promote", $"{champion.Name}:v{version}", details);
            return new RetrainOutcome(version, true, championAuc, challengerAuc, heldOut.RowCount, feedback.RowCount, $"Promoted v{version} to champion: {reason}.");
        }
        var why = $"challenger v{version} AUC {challengerAuc:0.0000} does not beat champion v{champion.Version} AUC {championAuc:0.0000} by the margin {margin:0.0000} on {heldOut.RowCount} held-out rows";
        await AuditAsync(order.RequestedBy, "model.promotion_refused", $"{champion.Name}:v{version}", new { details, reason = why });
        return new RetrainOutcome(version, false, championAuc, challengerAuc, heldOut.RowCount, feedback.RowCount, $"Registered v{version} as challenger, not promoted: {why}.");
    }

    /// <summary>Labelled feedback joined to the logged inputs of its predictions (the latest outcome per prediction).</summary>
    private async Task<Dataset> FeedbackAsync(RetrainChampion champion, CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        var joined = await (from f in db.Feedback.AsNoTracking()
                            join p in db.PredictionLog.AsNoTracking() on f.PredictionId equals p.Id
                            where p.ModelName == champion.Name
                            orderby f.Id
                            select new { p.Id, p.CustomerId, p.InputsJson, f.Churned }).ToListAsync(ct);
        var latest = joined.GroupBy(j => j.Id).Select(g => g.Last()).OrderBy(j => j.Id).ToList();
        return LoggedInputs.ToDataset(
            champion.Model.Card.Schema,
            [.. latest.Select(j => (j.CustomerId, j.InputsJson))],
            [.. latest.Select(j => j.Churned)],
            "feedback-" + latest.Count.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>Records the decision in the audit log, as the server's audit log does for changes made outside HTTP.</summary>
    private async Task AuditAsync(string actor, string action, string target, object details)
    {
        await using var db = store.CreateDbContext();
        db.AuditLog.Add(new AuditEntry
        {
            Time = time.GetUtcNow(),
            Actor = actor,
            Action = action,
            Target = target,
            Details = JsonSerializer.Serialize(details, JsonSerializerOptions.Web),
            ClientAddress = "local",
        });
        // The decision it records has already taken effect, so the entry is written even if the caller has gone.
        await db.SaveChangesAsync(CancellationToken.None);
    }
}
