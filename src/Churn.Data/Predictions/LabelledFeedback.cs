namespace Churn.Data.Predictions;

/// <summary>
/// The one read of labelled feedback: outcomes joined to the predictions they label, one per prediction, where a later
/// outcome for the same prediction corrects an earlier one. Monitoring reads a time window of it; retraining reads all of
/// a model's.
/// </summary>
public static class LabelledFeedback
{
    /// <summary>
    /// The latest outcome of each labelled prediction of <paramref name="modelName"/> (any model when null) logged from
    /// <paramref name="from"/> to <paramref name="to"/> (both inclusive, unbounded when null), ordered by prediction id.
    /// </summary>
    public static async Task<IReadOnlyList<LabelledPrediction>> LatestAsync(
        ChurnDbContext db, string? modelName, DateTimeOffset? from, DateTimeOffset? to, CancellationToken cancellationToken)
    {
        var query = from f in db.Feedback.AsNoTracking()
                    join p in db.PredictionLog.AsNoTracking() on f.PredictionId equals p.Id
                    select new { f, p };
        if (modelName is not null)
        {
            query = query.Where(j => j.p.ModelName == modelName);
        }
        if (from is { } start)
        {
            query = query.Where(j => j.p.Time >= start);
        }
        if (to is { } end)
        {
            query = query.Where(j => j.p.Time <= end);
        }
        var joined = await query.OrderBy(j => j.f.Id)
            .Select(j => new LabelledPrediction(j.p.Id, j.p.Time, j.p.CustomerId, j.p.InputsJson, j.f.Churned) { ObservedAt = j.f.ObservedAt })
            .ToListAsync(cancellationToken);
        return [.. joined.GroupBy(j => j.PredictionId).Select(g => g.Last()).OrderBy(j => j.PredictionId)];
    }
}
