using Churn.Core.Evaluation;
using Churn.Server.Models;
using Churn.Server.Predictions;

namespace Churn.Server.Monitoring;

/// <summary>
/// <c>GET /monitoring/shadow</c>: the challenger against the champion on the same live predictions. Agreement is the share
/// of rows where both models made the same decision at their thresholds (or gave the same risk tier); the AUCs use only
/// the rows with feedback, so both models are judged on the same customers.
/// </summary>
public sealed record ShadowComparisonResponse(
    string ModelName,
    int? ChallengerVersion,
    IReadOnlyList<int> ChampionVersions,
    DateTimeOffset From,
    DateTimeOffset To,
    int Rows,
    double? MeanAbsoluteDifference,
    double? DecisionAgreement,
    double? TierAgreement,
    double? ChampionMeanProbability,
    double? ChallengerMeanProbability,
    int Labelled,
    double? ChampionAuc,
    double? ChallengerAuc,
    ShadowCounters Queue);

public static class ShadowComparison
{
    /// <summary>Rows read per comparison at most (the newest).</summary>
    public const int MaxRows = 200_000;

    public static async Task<Results<Ok<ShadowComparisonResponse>, ProblemHttpResult>> GetAsync(
        DateTimeOffset? from, DateTimeOffset? to, int? challengerVersion, ModelHost host, ShadowQueue queue, StoreFactory store, TimeProvider time, CancellationToken ct)
    {
        var end = to ?? time.GetUtcNow();
        var start = from ?? end.AddDays(-7);
        if (start > end)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "from is after to.");
        }
        var name = host.Require().Name;
        await using var db = store.CreateDbContext();
        var inRange = db.ShadowPredictions.AsNoTracking().Where(s => s.ModelName == name && s.Time >= start && s.Time <= end);
        // Without a version asked for, the latest challenger that was shadowed in the range.
        var version = challengerVersion ?? await inRange.OrderByDescending(s => s.Id).Select(s => (int?)s.ChallengerVersion).FirstOrDefaultAsync(ct);
        var rows = version is null ? [] : await inRange.Where(s => s.ChallengerVersion == version)
            .OrderByDescending(s => s.Id).Take(MaxRows).ToListAsync(ct);
        var ids = rows.Select(r => r.PredictionId).ToList();
        var outcomes = await db.Feedback.AsNoTracking()
            .Where(f => f.PredictionId != null && ids.Contains(f.PredictionId.Value))
            .OrderBy(f => f.Id).Select(f => new { f.PredictionId, f.Churned }).ToListAsync(ct);
        // A later outcome for the same prediction corrects an earlier one.
        var labels = new Dictionary<Guid, bool>();
        foreach (var o in outcomes)
        {
            labels[o.PredictionId!.Value] = o.Churned;
        }
        var labelled = rows.Where(r => labels.ContainsKey(r.PredictionId)).ToList();
        var y = labelled.Select(r => labels[r.PredictionId]).ToArray();
        var bothClasses = y.Length >= MonitoringCheck.MinLabels && y.Any(l => l) && !y.All(l => l);
        double? Mean(Func<Data.Monitoring.ShadowPrediction, double> f) => rows.Count == 0 ? null : rows.Average(f);
        return TypedResults.Ok(new ShadowComparisonResponse(
            name,
            version,
            [.. rows.Select(r => r.ChampionVersion).Distinct().Order()],
            start,
            end,
            rows.Count,
            Mean(r => Math.Abs(r.ChallengerProbability - r.ChampionProbability)),
            Mean(r => r.ChallengerWillChurn == r.ChampionWillChurn ? 1 : 0),
            Mean(r => r.ChallengerTier == r.ChampionTier ? 1 : 0),
            Mean(r => r.ChampionProbability),
            Mean(r => r.ChallengerProbability),
            labelled.Count,
            bothClasses ? BinaryMetrics.Auc([.. labelled.Select(r => r.ChampionProbability)], y) : null,
            bothClasses ? BinaryMetrics.Auc([.. labelled.Select(r => r.ChallengerProbability)], y) : null,
            queue.Counters));
    }
}
