using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Churn.Core.Data;
using Churn.Core.Models;
using Churn.Core.Retraining;
using Churn.Core.Training;
using Churn.Data.Predictions;
using Churn.Data.Registry;
using Churn.Data.Security;
using Churn.Data.Tracking;

namespace Churn.Data.Retraining;

/// <summary>
/// One retraining, wherever it was asked for: trains a challenger on the reference data plus labelled feedback, registers
/// it as the challenger, lets <see cref="PromotionPolicy"/> compare it with the champion on the same held-out rows, and
/// promotes it (through <see cref="ModelChanges"/>) or audits why not. The server's retrain job and <c>churn retrain</c>
/// both run this, so a decision never depends on where the retraining was started.
/// </summary>
public sealed class Retrainer(
    RunTracker runs, ModelRegistry registry, ModelChanges changes, TrainingLock trainingLock, AuditLog audit, StoreFactory store, TimeProvider time)
{
    /// <summary>Share of the reference rows (and of feedback) held out when the champion's own split cannot be reused.</summary>
    public const double HeldOutFraction = 0.2;

    /// <summary>Takes the training lock as <paramref name="holder"/>, then trains and decides.</summary>
    /// <exception cref="TrainingLockedException">Another process or replica holds the training lock.</exception>
    public async Task<RetrainOutcome> RunLockedAsync(
        string holder, RetrainChampion champion, RetrainOrder order, PromotionPolicy policy, ChampionSwap? swap, IProgress<double>? progress, CancellationToken ct)
    {
        await using var held = await trainingLock.TryTakeAsync(holder, ct) ?? throw new TrainingLockedException(await trainingLock.HolderAsync(ct));
        return await TrainAndDecideAsync(champion, order, policy, swap, progress, ct);
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

    /// <summary>
    /// Trains and decides, for a caller that already holds the training lock (a server's queue takes it when the request
    /// arrives). A champion move goes through <paramref name="swap"/> when the host gives one.
    /// </summary>
    /// <exception cref="FileNotFoundException">The order names no reference file and the champion's own training file is not in the data directory.</exception>
    public async Task<RetrainOutcome> TrainAndDecideAsync(
        RetrainChampion champion, RetrainOrder order, PromotionPolicy policy, ChampionSwap? swap, IProgress<double>? progress, CancellationToken ct)
    {
        var card = champion.Model.Card;
        var referencePath = order.ReferencePath ?? FindReference(store.DataDir, card)
            ?? throw new FileNotFoundException($"No reference data to retrain on: the champion's training file '{card.DataSource}' is not under {Path.Combine(store.DataDir, "data")}.");
        var seed = order.Seed ?? (int)(time.GetUtcNow().ToUnixTimeSeconds() % int.MaxValue);
        var reference = DatasetLoader.Load(referencePath, card.Schema);
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
        var samplePath = order.Sample is { } sample ? await sample.EnsureAsync(store.DataDir, ct) : null;
        var trainingBase = samplePath is not null ? DatasetLoader.Load(samplePath, card.Schema) : reference.Select(referenceTrain);
        var fingerprint = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(
            $"{trainingBase.Fingerprint}|{string.Join(',', feedbackTrain.Select(r => feedback.Ids[r]))}|{feedback.Fingerprint}")));
        var trainingData = Dataset.Concat(trainingBase, feedback.Select(feedbackTrain), fingerprint);

        var referenceName = Path.GetFileName(referencePath);
        var trainingOptions = new TrainingOptions { ModelName = champion.Name, Seed = seed, DataSource = referenceName };
        var parameters = RecordedTraining.Parameters(trainingOptions, referenceName);
        parameters["reason"] = order.Reason;
        parameters["feedbackRows"] = feedback.RowCount.ToString(CultureInfo.InvariantCulture);
        parameters["heldOutRows"] = heldOut.RowCount.ToString(CultureInfo.InvariantCulture);
        parameters["trainingBase"] = samplePath is null ? "" : Path.GetFileName(samplePath);
        var trainingProgress = new Progress<TrainingProgress>(p => progress?.Report(p.Fraction * 0.9));
        var by = order.RequestedBy;
        var trained = await RecordedTraining.RunAsync(runs, registry, changes, store.DataDir, champion.Name, order.Trigger, by, promote: false,
            parameters, fingerprint, token => ChurnTrainer.Train(trainingData, trainingOptions, trainingProgress, token).Model, RecordedTraining.Classifier, ct);
        var version = trained.Version.Version;
        await changes.PromoteAsync(champion.Name, version, ModelAliases.Challenger, by,
            $"retrained ({order.Trigger.ToString().ToLowerInvariant()}): {order.Reason}", ct);

        var labels = heldOut.RequireLabels();
        var decision = policy.Decide(champion.Model.Score(heldOut), trained.Model.Score(heldOut), labels, champion.Version, version);
        progress?.Report(0.95);
        var details = new { decision, championVersion = champion.Version, challengerVersion = version, trigger = order.Trigger.ToString(), reason = decision.Reason };
        if (decision.Promote)
        {
            await changes.PromoteAsync(champion.Name, version, ModelAliases.Champion, by, decision.Reason, ct, swap, details);
        }
        else
        {
            await audit.RecordAsync(by, "model.promotion_refused", $"{champion.Name}:v{version}", details);
        }
        return new RetrainOutcome(version, decision, feedback.RowCount, referencePath);
    }

    /// <summary>Labelled feedback on the champion's model, joined to the logged inputs of its predictions.</summary>
    private async Task<Dataset> FeedbackAsync(RetrainChampion champion, CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        var latest = await LabelledFeedback.LatestAsync(db, champion.Name, from: null, to: null, ct);
        return LoggedInputs.ToDataset(
            champion.Model.Card.Schema,
            [.. latest.Select(j => (j.CustomerId, j.InputsJson))],
            [.. latest.Select(j => j.Churned)],
            "feedback-" + latest.Count.ToString(CultureInfo.InvariantCulture));
    }
}
