using Churn.Core.Data;
using Churn.Core.Drift;
using Churn.Core.Evaluation;
using Churn.Core.Models;
using Churn.Core.Quality;
using Churn.Data.Monitoring;
using Churn.Data.Predictions;
using Churn.Data.Registry;
using Churn.Data.Tracking;
using Churn.Server.Models;
using Churn.Server.Retraining;
using Churn.Server.Telemetry;

namespace Churn.Server.Monitoring;

/// <summary>The kinds of monitoring time series, as stored in <see cref="MonitoringResult.Kind"/>.</summary>
public static class MonitoringKinds
{
    public const string Drift = "drift";
    public const string Quality = "quality";
    public const string Performance = "performance";
    public const string System = "system";
}

/// <summary>Realised metrics of one model version from joined feedback; AUC and Brier are null with too few labels or one class only.</summary>
public sealed record RealisedPerformance(int Labelled, double? Auc, double? Brier, double Precision, double Recall, double F1, double ChurnRate);

/// <summary>One model version's predictions in a window: realised metrics where outcomes are known, estimated ones over all of them.</summary>
public sealed record VersionPerformance(int ModelVersion, int Predictions, RealisedPerformance? Realised, EstimatedPerformance? Estimated, double? ReferenceAuc);

public sealed record PerformanceWindow(IReadOnlyList<VersionPerformance> Versions);

/// <summary>Serving health over a window: scoring latency from the log and the server error rate since the previous check.</summary>
public sealed record SystemWindow(int Predictions, double? LatencyP50Ms, double? LatencyP99Ms, long Requests, long ServerErrors, double? ErrorRate);

/// <summary>What one check found and which alerts it raised.</summary>
public sealed record MonitoringSummary(
    DateTimeOffset WindowStart,
    DateTimeOffset WindowEnd,
    int Rows,
    int? ChampionVersion,
    double? DriftedShare,
    bool? DatasetDrift,
    IReadOnlyList<string> DriftedFeatures,
    IReadOnlyList<VersionPerformance> Performance,
    SystemWindow System,
    IReadOnlyList<AlertResponse> Alerts);

/// <summary>
/// One monitoring check over the latest window of logged predictions: drift and data quality against the champion's
/// reference profile, realised and estimated performance per model version, latency and errors. Each result is stored
/// as a time-series row; conditions beyond their thresholds raise alerts, and drift or performance alerts ask for a retraining.
/// </summary>
public sealed class MonitoringCheck(
    StoreFactory store,
    ModelHost host,
    ModelRegistry registry,
    RuntimeSettings settings,
    ServerMetrics metrics,
    AlertRaiser alerts,
    RetrainQueue retraining,
    TimeProvider time,
    ILogger<MonitoringCheck> log)
{
    /// <summary>Rows read per check at most; a drift check needs a sample, not every prediction.</summary>
    public const int MaxRows = 200_000;

    /// <summary>
    /// Fewer rows than this in a window give no data-quality alert and no error rate. Drift is checked on any non-empty
    /// window: each feature short of its test's minimum (<see cref="DriftOptions"/>) is stored without a verdict and says why.
    /// </summary>
    public const int MinRows = 30;

    /// <summary>Fewer labelled predictions than this give no realised AUC or Brier.</summary>
    public const int MinLabels = 20;

    private readonly SemaphoreSlim gate = new(1, 1);
    private (long Served, long Errors) previousTotals;

    public async Task<MonitoringSummary> RunAsync(DateTimeOffset? from, CancellationToken ct)
    {
        // The timer and POST /monitoring/run may meet; one check at a time keeps the error-rate deltas and cool-downs exact.
        await gate.WaitAsync(ct);
        try
        {
            return await RunOnceAsync(from, ct);
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task<MonitoringSummary> RunOnceAsync(DateTimeOffset? from, CancellationToken ct)
    {
        var model = host.Require();
        var monitoring = settings.Monitoring;
        var thresholds = settings.Model;
        var end = time.GetUtcNow();
        var start = from ?? end - monitoring.Window;

        await using var db = store.CreateDbContext();
        var rows = await db.PredictionLog.AsNoTracking()
            .Where(p => p.ModelName == model.Name && p.Time >= start && p.Time <= end)
            .OrderByDescending(p => p.Time)
            .Take(MaxRows)
            .Select(p => new LoggedRow(p.Id, p.ModelVersion, p.CustomerId, p.InputsJson, p.Probability, p.LatencyMicroseconds))
            .ToListAsync(ct);
        var ids = rows.Select(r => r.Id).ToList();
        var labels = await LabelsAsync(db, start, end, ct);

        var results = new List<MonitoringResult>();
        DriftReport? drift = null;
        string? qualityProblems = null;
        if (rows.Count > 0)
        {
            var dataset = LoggedInputs.ToDataset(model.Schema, [.. rows.Select(r => (r.CustomerId, r.InputsJson))]);
            var championScores = rows.Where(r => r.ModelVersion == model.Version).Select(r => r.Probability).ToList();
            drift = DriftDetector.Detect(model.Card, dataset, championScores, DriftOptionsFor(thresholds));
            results.Add(Result(MonitoringKinds.Drift, drift));
            if (rows.Count >= MinRows)
            {
                var quality = DataQualityAnalyzer.Analyze(dataset, new LoadReport([], []), model.Card.Reference);
                results.Add(Result(MonitoringKinds.Quality, quality));
                qualityProblems = QualityProblems(model.Card, quality, monitoring.AlertThreshold);
            }
        }

        var performance = await PerformanceAsync(model, rows, labels, ct);
        results.Add(Result(MonitoringKinds.Performance, new PerformanceWindow(performance)));
        var system = System(rows);
        results.Add(Result(MonitoringKinds.System, system));
        foreach (var r in results)
        {
            r.Time = end;
            r.WindowStart = start;
            r.WindowEnd = end;
        }
        db.MonitoringResults.AddRange(results);
        await db.SaveChangesAsync(ct);

        var raised = new List<AlertResponse>();
        async Task Raise(string kind, string severity, string message, RunTrigger? trigger = null)
        {
            if (await alerts.RaiseAsync(kind, severity, message, ct) is { } alert)
            {
                raised.Add(alert);
                if (trigger is { } t)
                {
                    // Only a newly raised alert asks for retraining, so the alert's cool-down also spaces retrainings out.
                    retraining.RequestAutomatic(t, $"{kind} alert: {message}");
                }
            }
        }

        if (drift is { DatasetDrift: true })
        {
            await Raise(AlertKinds.Drift, "warning",
                $"{drift.DriftedShare:P0} of features drifted (threshold {thresholds.DriftThreshold:P0}) over {rows.Count} predictions; most important: {string.Join(", ", drift.DriftedByImportance.Take(5))}.",
                RunTrigger.Drift);
        }
        if (performance.FirstOrDefault(p => p.ModelVersion == model.Version) is { Realised.Auc: { } auc, ReferenceAuc: { } reference }
            && auc < reference - thresholds.RetrainingThreshold)
        {
            await Raise(AlertKinds.Performance, "critical",
                $"Realised AUC of v{model.Version} is {auc:0.000}, more than {thresholds.RetrainingThreshold:0.000} below its test AUC {reference:0.000}.",
                RunTrigger.Performance);
        }
        if (system.ErrorRate is { } errorRate && errorRate > monitoring.AlertThreshold)
        {
            await Raise(AlertKinds.ErrorRate, "critical", $"{errorRate:P1} of {system.Requests} requests failed with a server error since the last check.");
        }
        if (system.LatencyP99Ms is { } p99 && p99 > monitoring.LatencyP99Ms)
        {
            await Raise(AlertKinds.Latency, "warning", $"99th percentile scoring latency is {p99:0.###} ms (limit {monitoring.LatencyP99Ms:0.###} ms).");
        }
        if (qualityProblems is not null)
        {
            await Raise(AlertKinds.DataQuality, "warning", qualityProblems);
        }

        log.LogInformation("Monitoring check over {Rows} predictions from {Start:u}: drifted share {Share}, {Alerts} alert(s).",
            rows.Count, start, drift?.DriftedShare, raised.Count);
        return new MonitoringSummary(start, end, rows.Count, model.Version, drift?.DriftedShare, drift?.DatasetDrift,
            drift?.DriftedByImportance ?? [], performance, system, raised);
    }

    /// <summary>The drift options the operator's settings give; <c>churn drift</c> builds the same from the same settings.</summary>
    public static DriftOptions DriftOptionsFor(ModelSettings settings) => new()
    {
        DatasetDriftShare = settings.DriftThreshold,
        MinKsValues = settings.DriftMinValuesKs,
        MinChiSquaredValues = settings.DriftMinValuesChi2,
    };

    /// <summary>The quality problems beyond the threshold as one alert message, or null when there are none.</summary>
    private static string? QualityProblems(ModelCard card, DataQualityReport quality, double threshold)
    {
        var problems = new List<string>();
        foreach (var column in quality.Columns)
        {
            var referenceMissing = card.Reference.FirstOrDefault(r => r.Name == column.Column)?.MissingShare ?? 0;
            // Missing values the reference already had are normal; only the excess is a quality problem.
            if (column.MissingShare - referenceMissing > threshold)
            {
                problems.Add($"{column.Column}: {column.MissingShare:P0} missing");
            }
            if (column.OutOfRangeShare is { } outOfRange && outOfRange > threshold)
            {
                problems.Add($"{column.Column}: {outOfRange:P0} out of the reference range");
            }
            if (column.UnseenShare > threshold)
            {
                problems.Add($"{column.Column}: {column.UnseenShare:P0} unseen categories");
            }
        }
        return problems.Count == 0 ? null : $"Data quality beyond {threshold:P0} in {problems.Count} place(s): {string.Join("; ", problems.Take(5))}.";
    }

    // A later outcome for the same prediction corrects an earlier one (LabelledFeedback keeps the latest).
    private static async Task<Dictionary<Guid, bool>> LabelsAsync(ChurnDbContext db, DateTimeOffset start, DateTimeOffset end, CancellationToken ct) =>
        (await LabelledFeedback.LatestAsync(db, modelName: null, start, end, ct)).ToDictionary(l => l.PredictionId, l => l.Churned);

    private async Task<List<VersionPerformance>> PerformanceAsync(ServingModel model, List<LoggedRow> rows, Dictionary<Guid, bool> labels, CancellationToken ct)
    {
        var result = new List<VersionPerformance>();
        foreach (var group in rows.GroupBy(r => r.ModelVersion).OrderBy(g => g.Key))
        {
            var card = group.Key == model.Version ? model.Card : await CardAsync(model.Name, group.Key, ct);
            var threshold = card?.Threshold ?? model.Card.Threshold;
            var probabilities = group.Select(r => r.Probability).ToArray();
            var labelled = group.Where(r => labels.ContainsKey(r.Id)).ToList();
            RealisedPerformance? realised = null;
            if (labelled.Count > 0)
            {
                var p = labelled.Select(r => r.Probability).ToArray();
                var y = labelled.Select(r => labels[r.Id]).ToArray();
                var positives = y.Count(v => v);
                var enough = labelled.Count >= MinLabels && positives > 0 && positives < y.Length;
                var confusion = BinaryMetrics.Confusion(p, y, threshold);
                realised = new RealisedPerformance(
                    labelled.Count,
                    enough ? BinaryMetrics.Auc(p, y) : null,
                    labelled.Count >= MinLabels ? BinaryMetrics.Brier(p, y) : null,
                    confusion.Precision,
                    confusion.Recall,
                    confusion.F1,
                    (double)positives / y.Length);
            }
            result.Add(new VersionPerformance(group.Key, group.Count(), realised, EstimatedPerformance.From(probabilities, threshold), card?.Metrics.Auc));
        }
        return result;
    }

    private async Task<ModelCard?> CardAsync(string name, int version, CancellationToken ct)
    {
        var info = await registry.GetVersionAsync(name, version, ct);
        return info is null ? null : JsonSerializer.Deserialize<ModelCard>(info.CardJson, JsonDefaults.Options);
    }

    private SystemWindow System(List<LoggedRow> rows)
    {
        var totals = metrics.Totals;
        var served = totals.Served - previousTotals.Served;
        var errors = totals.ServerErrors - previousTotals.Errors;
        previousTotals = (totals.Served, totals.ServerErrors);
        var requests = served + errors;
        var latencies = rows.Select(r => r.LatencyMicroseconds / 1000.0).Order().ToArray();
        return new SystemWindow(
            rows.Count,
            latencies.Length == 0 ? null : Percentile(latencies, 0.5),
            latencies.Length == 0 ? null : Percentile(latencies, 0.99),
            requests,
            errors,
            requests >= MinRows ? (double)errors / requests : null);
    }

    private static double Percentile(double[] sorted, double q) => sorted[(int)Math.Min(sorted.Length - 1, Math.Ceiling(q * sorted.Length) - 1)];

    private static MonitoringResult Result<T>(string kind, T value) =>
        new() { Kind = kind, ResultJson = JsonSerializer.Serialize(value, JsonDefaults.Options) };

    internal sealed record LoggedRow(Guid Id, int ModelVersion, string? CustomerId, string InputsJson, double Probability, long LatencyMicroseconds);
}
