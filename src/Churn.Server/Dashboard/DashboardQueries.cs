using System.Globalization;
using Churn.Core.Models;
using Churn.Server.Monitoring;

namespace Churn.Server.Dashboard;

/// <summary>Read-only store queries the dashboard pages share: recent logged predictions and alerts.</summary>
public sealed class DashboardQueries(StoreFactory store, TimeProvider time)
{
    public static readonly TimeSpan RecentWindow = TimeSpan.FromDays(1);

    /// <summary>Customers scored in the last day at or above the threshold, and the value they carry (probability times customer value).</summary>
    public async Task<RiskSummary> RiskAsync(double threshold, CancellationToken cancellationToken)
    {
        var since = time.GetUtcNow() - RecentWindow;
        await using var db = store.CreateDbContext();
        var rows = await db.PredictionLog.AsNoTracking().Where(p => p.Time >= since)
            .Select(p => new { p.Probability, p.InputsJson }).Take(20_000).ToListAsync(cancellationToken);
        int atRisk = 0, withValue = 0;
        var revenue = 0.0;
        foreach (var row in rows.Where(r => r.Probability >= threshold))
        {
            atRisk++;
            using var inputs = JsonDocument.Parse(row.InputsJson);
            if (inputs.RootElement.TryGetProperty("$customerValue", out var value) && value.TryGetDouble(out var v))
            {
                withValue++;
                revenue += row.Probability * v;
            }
        }
        return new RiskSummary(rows.Count, atRisk, Math.Round(revenue, 2), withValue, RecentWindow);
    }

    public async Task<IReadOnlyList<LoggedPrediction>> RecentPredictionsAsync(int limit, CancellationToken cancellationToken)
    {
        await using var db = store.CreateDbContext();
        var rows = await db.PredictionLog.AsNoTracking().OrderByDescending(p => p.Time).Take(limit)
            .Select(p => new { p.Time, p.ModelVersion, p.Probability, p.InputsJson }).ToListAsync(cancellationToken);
        return [.. rows.Select(r => new LoggedPrediction(r.Time, r.ModelVersion, r.Probability, JsonSerializer.Deserialize<JsonElement>(r.InputsJson)))];
    }

    public async Task<IReadOnlyList<AlertResponse>> AlertsAsync(int limit, CancellationToken cancellationToken)
    {
        await using var db = store.CreateDbContext();
        var rows = await db.Alerts.AsNoTracking().OrderByDescending(a => a.RaisedAt).Take(limit).ToListAsync(cancellationToken);
        return [.. rows.Select(a => a.AsResponse())];
    }

    public async Task<int> OpenAlertsAsync(CancellationToken cancellationToken)
    {
        await using var db = store.CreateDbContext();
        return await db.Alerts.CountAsync(a => a.AcknowledgedAt == null, cancellationToken);
    }

    public static ModelCard? ReadCard(string cardJson)
    {
        try
        {
            return JsonSerializer.Deserialize<ModelCard>(cardJson, JsonDefaults.Options);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public static string Money(double value) => value.ToString("#,0.00", CultureInfo.InvariantCulture);

}
