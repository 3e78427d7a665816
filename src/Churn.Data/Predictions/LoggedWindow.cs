using Churn.Core.Data;
using Churn.Core.Schema;

namespace Churn.Data.Predictions;

/// <summary>
/// A model's logged predictions in a time window, newest first, and, when asked for, their inputs read back into a
/// dataset (row i of <see cref="Inputs"/> is <c>Rows[i]</c>). The monitoring check's one query of the prediction log.
/// </summary>
public sealed record LoggedWindow(IReadOnlyList<LoggedPrediction> Rows, Dataset? Inputs)
{
    /// <summary>
    /// Reads the predictions of <paramref name="modelName"/> logged from <paramref name="start"/> to <paramref name="end"/>
    /// (both inclusive; null: no bound), the newest <paramref name="maxRows"/> at most (null: all). With a
    /// <paramref name="schema"/>, the inputs are parsed as the rows stream in (<see cref="LoggedInputs.Builder"/>), so
    /// no row's JSON text outlives its chunk; without one, the inputs are not read at all.
    /// </summary>
    /// <exception cref="System.Text.Json.JsonException">A logged input is not a JSON object.</exception>
    public static async Task<LoggedWindow> ReadAsync(
        ChurnDbContext db, string modelName, DateTimeOffset? start, DateTimeOffset? end, int? maxRows, DatasetSchema? schema, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(db);
        var query = db.PredictionLog.AsNoTracking().Where(p => p.ModelName == modelName);
        if (start is { } from)
        {
            query = query.Where(p => p.Time >= from);
        }
        if (end is { } to)
        {
            query = query.Where(p => p.Time <= to);
        }
        query = query.OrderByDescending(p => p.Time);
        if (maxRows is { } most)
        {
            query = query.Take(most);
        }
        var rows = new List<LoggedPrediction>();
        if (schema is null)
        {
            await foreach (var p in query.Select(p => new LoggedPrediction(p.Id, p.ModelVersion, p.CustomerId, p.Probability, p.LatencyMicroseconds, p.Time))
                .AsAsyncEnumerable().WithCancellation(ct))
            {
                rows.Add(p);
            }
            return new LoggedWindow(rows, null);
        }
        var inputs = new LoggedInputs.Builder(schema);
        await foreach (var p in query.Select(p => new { p.Id, p.ModelVersion, p.CustomerId, p.Probability, p.LatencyMicroseconds, p.Time, p.InputsJson })
            .AsAsyncEnumerable().WithCancellation(ct))
        {
            rows.Add(new LoggedPrediction(p.Id, p.ModelVersion, p.CustomerId, p.Probability, p.LatencyMicroseconds, p.Time));
            inputs.Add(p.CustomerId, p.InputsJson);
        }
        return new LoggedWindow(rows, inputs.Build());
    }
}
