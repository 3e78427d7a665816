using Churn.Core.Data;
using Churn.Core.Drift;
using Churn.Core.Evaluation;
using Churn.Core.Models;
using Churn.Core.Quality;
using Churn.Core.Segments;
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

    /// <summary>Drift, quality and performance per segment of the columns in <c>monitoring.segments</c>, one row per check.</summary>
    public const string Segments = "segments";
}

/// <summary>
/// Realised metrics of one model version from joined feedback; AUC and Brier are null with too few labels or one class
/// only; <see cref="Calibration"/> is observed against expected churn over the same labelled predictions.
/// </summary>
public sealed record RealisedPerformance(
    int Labelled, double? Auc, double? Brier, double Precision, double Recall, double F1, double ChurnRate, CalibrationCheck? Calibration = null);

/// <summary>Whether the outcomes of a window's predictions are final, as written in <see cref="VersionPerformance.Outcomes"/>.</summary>
public static class OutcomeStates
{
    /// <summary>Every prediction's outcome window (and label delay) has passed: realised metrics cover them all.</summary>
    public const string Final = "final";

    /// <summary>Some predictions are still inside their outcome window: realised metrics cover only the others.</summary>
    public const string PartlyMaturing = "partly maturing";

    /// <summary>No prediction's outcome is final yet: there are no realised metrics, only the estimate.</summary>
    public const string Maturing = "maturing";
}

/// <summary>
/// One model version's predictions in a window: realised metrics over predictions whose outcome is final and that have
/// feedback, estimated ones over all of them. <see cref="Outcomes"/> is one of <see cref="OutcomeStates"/>;
/// <see cref="Maturing"/> counts predictions still inside their outcome window and <see cref="MaturesAt"/> is when the
/// last of them becomes final.
/// </summary>
public sealed record VersionPerformance(
    int ModelVersion, int Predictions, RealisedPerformance? Realised, EstimatedPerformance? Estimated, double? ReferenceAuc,
    string Outcomes = OutcomeStates.Final, int Maturing = 0, DateTimeOffset? MaturesAt = null);

/// <summary>
/// Performance per model version over a window; with an outcome window set, <see cref="Matured"/> is the same length of
/// time shifted back until every outcome is final, where realised and estimated performance can be compared fairly.
/// </summary>
public sealed record PerformanceWindow(IReadOnlyList<VersionPerformance> Versions, MaturedPerformance? Matured = null);

/// <summary>Performance over the latest window whose outcomes are all final: from <see cref="Start"/> to <see cref="End"/>.</summary>
public sealed record MaturedPerformance(DateTimeOffset Start, DateTimeOffset End, IReadOnlyList<VersionPerformance> Versions);

/// <summary>
/// One segment's check: its rows in the window and in the reference, its drift against the segment's own reference
/// rows, data quality, and the champion's realised and estimated performance and calibration. A segment with fewer
/// rows than <see cref="MonitoringCheck.MinRows"/>, or absent from the reference data, carries a <see cref="Note"/> instead.
/// </summary>
public sealed record SegmentResult(
    string Segment, string Column, int Rows, int ReferenceRows, DriftReport? Drift, DataQualityReport? Quality, VersionPerformance? Performance, string? Note,
    string? QualityProblems = null);

/// <summary>Every segment of a check, and segment columns that could not be used (with why).</summary>
public sealed record SegmentsWindow(IReadOnlyList<SegmentResult> Segments, IReadOnlyList<string> Problems);

/// <summary>A segment's headline in a check's summary.</summary>
public sealed record SegmentSummary(string Segment, int Rows, double? DriftedShare, bool? DatasetDrift, double? CalibrationRatio);

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
    IReadOnlyList<AlertResponse> Alerts,
    IReadOnlyList<SegmentSummary> Segments);

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
    ReferenceRows references,
    TimeProvider time,
    ILogger<MonitoringCheck> log)
{
    /// <summary>
    /// Rows read per check at most: data quality, segments, performance and the domain classifier work on the newest this
    /// many. The drift verdict of a longer window comes from its counts (<see cref="WindowDriftCounts"/>) and covers all of it.
    /// </summary>
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
        var window = await LoggedWindow.ReadAsync(db, model.Name, start, end, MaxRows, model.Schema, ct);
        var rows = window.Rows;
        var labels = await LabelsAsync(db, start, end, ct);
        // An outcome is final once its outcome window and the label delay have passed; younger predictions are maturing.
        var maturity = monitoring.OutcomeMaturity();
        var finalBefore = end - maturity;

        var results = new List<MonitoringResult>();
        DriftReport? drift = null;
        string? qualityProblems = null;
        SegmentsWindow? segments = null;
        if (rows.Count > 0)
        {
            var dataset = window.Inputs!;
            var championScores = rows.Where(r => r.ModelVersion == model.Version).Select(r => r.Probability).ToList();
            // A window holding more than the rows read is judged from its counts (stored per time bucket), so the verdict
            // covers every prediction in it; the rest of the check works on the newest rows read.
            drift = rows.Count < MaxRows
                ? DriftDetector.Detect(model.Card, dataset, championScores, DriftOptionsFor(thresholds))
                : DriftDetector.Detect(model.Card, (await WindowDriftCounts.CountAsync(db, model.Name, model.Version, model.Card, start, end, ct)).Counts,
                    DriftOptionsFor(thresholds));
            if (references.For(model) is { } referenceRows)
            {
                // Beside the per-feature tests: a change in how features move together shows only to a joint view. Training
                // it can fail on data no model can learn from; that costs the joint verdict, not the rest of the check.
                try
                {
                    drift = drift with { Domain = DomainClassifier.Detect(referenceRows, dataset, DriftOptionsFor(thresholds)) };
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    log.LogWarning(ex, "The domain classifier failed on {Rows} predictions; this check has no multivariate drift verdict.", rows.Count);
                }
            }
            results.Add(Result(MonitoringKinds.Drift, drift));
            if (rows.Count >= MinRows)
            {
                var quality = DataQualityAnalyzer.Analyze(dataset, new LoadReport([], []), model.Card.Reference);
                results.Add(Result(MonitoringKinds.Quality, quality));
                qualityProblems = QualityProblems(model.Card.Reference, quality, monitoring.AlertThreshold);
            }
            if (monitoring.SegmentColumns() is { Count: > 0 } segmentColumns)
            {
                segments = Segments(model, segmentColumns, dataset, rows, labels, finalBefore, maturity, DriftOptionsFor(thresholds), monitoring.AlertThreshold);
                results.Add(Result(MonitoringKinds.Segments, segments));
            }
        }

        var performance = await PerformanceAsync(model, rows, labels, finalBefore, maturity, ct);
        MaturedPerformance? matured = null;
        if (maturity > TimeSpan.Zero)
        {
            // The same length of window, shifted back until every outcome in it is final: there realised and estimated
            // performance compare fairly, where the latest window would look better only because churn has not happened yet.
            var (maturedStart, maturedEnd) = (start - maturity, end - maturity);
            var maturedRows = (await LoggedWindow.ReadAsync(db, model.Name, maturedStart, maturedEnd, MaxRows, schema: null, ct)).Rows;
            var maturedLabels = await LabelsAsync(db, maturedStart, maturedEnd, ct);
            matured = new MaturedPerformance(maturedStart, maturedEnd, await PerformanceAsync(model, maturedRows, maturedLabels, maturedEnd, maturity, ct));
        }
        results.Add(Result(MonitoringKinds.Performance, new PerformanceWindow(performance, matured)));
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
                $"{drift.DriftedShare:P0} of features drifted (threshold {thresholds.DriftThreshold:P0}) over {drift.CurrentRows} predictions; most important: {string.Join(", ", drift.DriftedByImportance.Take(5))}.",
                RunTrigger.Drift);
        }
        if (drift?.Domain is { Drifted: true } domain)
        {
            await Raise(AlertKinds.MultivariateDrift, "warning", $"A domain classifier tells this window's {rows.Count} predictions from the reference data: {domain.Summary()}.");
        }
        // Realised figures come from the latest window whose outcomes are final: the current one, else the matured one.
        var champion = performance.FirstOrDefault(p => p.ModelVersion == model.Version) is { Realised: not null } current
            ? current
            : matured?.Versions.FirstOrDefault(p => p.ModelVersion == model.Version);
        if (champion is { Realised.Auc: { } auc, ReferenceAuc: { } reference }
            && auc < reference - thresholds.RetrainingThreshold)
        {
            await Raise(AlertKinds.Performance, "critical",
                $"Realised AUC of v{model.Version} is {auc:0.000}, more than {thresholds.RetrainingThreshold:0.000} below its test AUC {reference:0.000}.",
                RunTrigger.Performance);
        }
        if (champion?.Realised?.Calibration is { } calibration && calibration.IsMiscalibrated(monitoring.CalibrationTolerance))
        {
            await Raise(AlertKinds.Calibration, "warning", CalibrationMessage(null, model.Version, calibration, monitoring.CalibrationTolerance));
        }
        foreach (var segment in segments?.Segments ?? [])
        {
            if (segment.Drift is { DatasetDrift: true } segmentDrift)
            {
                await Raise(AlertKinds.ForSegment(AlertKinds.Drift, segment.Segment), "warning",
                    $"Segment {segment.Segment}: {segmentDrift.DriftedShare:P0} of features drifted (threshold {thresholds.DriftThreshold:P0}) over {segment.Rows} predictions; most important: {string.Join(", ", segmentDrift.DriftedByImportance.Take(5))}.");
            }
            if (segment.Performance?.Realised?.Calibration is { } segmentCalibration && segmentCalibration.IsMiscalibrated(monitoring.CalibrationTolerance))
            {
                await Raise(AlertKinds.ForSegment(AlertKinds.Calibration, segment.Segment), "warning",
                    CalibrationMessage(segment.Segment, model.Version, segmentCalibration, monitoring.CalibrationTolerance));
            }
            if (segment.QualityProblems is { } segmentProblems)
            {
                await Raise(AlertKinds.ForSegment(AlertKinds.DataQuality, segment.Segment), "warning", $"Segment {segment.Segment}: {segmentProblems}");
            }
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
            drift?.DriftedByImportance ?? [], performance, system, raised,
            [.. (segments?.Segments ?? []).Select(g => new SegmentSummary(g.Segment, g.Rows, g.Drift?.DriftedShare, g.Drift?.DatasetDrift, g.Performance?.Realised?.Calibration?.Ratio))]);
    }

    private static string CalibrationMessage(string? segment, int version, CalibrationCheck c, double tolerance) =>
        FormattableString.Invariant(
            $"{(segment is null ? "" : $"Segment {segment}: ")}v{version} observed {c.Observed} churners against {c.Expected:0.0} expected over {c.Labelled} labelled predictions: ratio {c.Ratio:0.00} (95 % interval {c.Low:0.00} to {c.High:0.00}, tolerance {tolerance:0.00}), {c.Direction}.");

    /// <summary>
    /// Each segment of each configured column on its own: drift against the segment's reference rows, data quality, and
    /// the champion's performance and calibration. A column the schema lacks is reported in the problems, not thrown.
    /// </summary>
    private SegmentsWindow Segments(
        ServingModel model, IReadOnlyList<SegmentColumn> columns, Dataset dataset, IReadOnlyList<LoggedPrediction> rows, Dictionary<Guid, bool> labels,
        DateTimeOffset finalBefore, TimeSpan maturity, DriftOptions options, double alertThreshold)
    {
        var problems = new List<string>();
        var usable = new List<SegmentColumn>();
        foreach (var column in columns)
        {
            try
            {
                column.Assign(dataset.Select([]));
                usable.Add(column);
            }
            catch (ArgumentException ex)
            {
                problems.Add(ex.Message);
            }
        }
        var reference = references.Segments(model, usable);
        if (usable.Count > 0 && references.For(model) is null)
        {
            problems.Add($"the reference data of v{model.Version} ('{model.Card.DataSource}') is not in the data directory, so segments get no drift verdict.");
        }
        var importance = model.Card.Importance.ToDictionary(i => i.Feature, i => i.AucDrop);
        var results = new List<SegmentResult>();
        foreach (var column in usable)
        {
            var keys = column.Assign(dataset);
            var groups = Enumerable.Range(0, keys.Length).Where(r => keys[r] is not null).GroupBy(r => keys[r]!, StringComparer.Ordinal);
            foreach (var group in groups.OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                var indices = group.ToList();
                var segmentReference = reference.GetValueOrDefault(group.Key);
                if (indices.Count < MinRows)
                {
                    results.Add(new SegmentResult(group.Key, column.Column, indices.Count, segmentReference?.Rows ?? 0, null, null, null,
                        $"{indices.Count} predictions: at least {MinRows} are needed to check a segment."));
                    continue;
                }
                var subset = dataset.Select(indices);
                DriftReport? drift = null;
                string? note = null;
                if (segmentReference is { Rows: >= MinRows })
                {
                    drift = DriftDetector.Detect(segmentReference.Profile, subset, importance, options: options);
                }
                else
                {
                    note = $"{segmentReference?.Rows ?? 0} reference rows: at least {MinRows} are needed for a drift verdict.";
                }
                var segmentProfile = segmentReference?.Profile ?? model.Card.Reference;
                var quality = DataQualityAnalyzer.Analyze(subset, new LoadReport([], []), segmentProfile);
                var champion = indices.Select(i => rows[i]).Where(r => r.ModelVersion == model.Version).ToList();
                var performance = champion.Count == 0 ? null
                    : Performance(model.Version, champion, labels, model.Card.Threshold, model.Card.Metrics.Auc, finalBefore, maturity);
                results.Add(new SegmentResult(group.Key, column.Column, indices.Count, segmentReference?.Rows ?? 0, drift, quality, performance, note,
                    QualityProblems(segmentProfile, quality, alertThreshold)));
            }
        }
        return new SegmentsWindow(results, problems);
    }

    /// <summary>The drift options the operator's settings give; <c>churn drift</c> builds the same from the same settings.</summary>
    public static DriftOptions DriftOptionsFor(ModelSettings settings) => new()
    {
        DatasetDriftShare = settings.DriftThreshold,
        MinKsValues = settings.DriftMinValuesKs,
        MinChiSquaredValues = settings.DriftMinValuesChi2,
    };

    /// <summary>The quality problems beyond the threshold as one alert message, or null when there are none.</summary>
    private static string? QualityProblems(IReadOnlyList<FeatureProfile> reference, DataQualityReport quality, double threshold)
    {
        var problems = new List<string>();
        foreach (var column in quality.Columns)
        {
            var referenceMissing = reference.FirstOrDefault(r => r.Name == column.Column)?.MissingShare ?? 0;
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

    private async Task<List<VersionPerformance>> PerformanceAsync(
        ServingModel model, IReadOnlyList<LoggedPrediction> rows, Dictionary<Guid, bool> labels, DateTimeOffset finalBefore, TimeSpan maturity, CancellationToken ct)
    {
        var result = new List<VersionPerformance>();
        foreach (var group in rows.GroupBy(r => r.ModelVersion).OrderBy(g => g.Key))
        {
            var card = group.Key == model.Version ? model.Card : await CardAsync(model.Name, group.Key, ct);
            result.Add(Performance(group.Key, [.. group], labels, card?.Threshold ?? model.Card.Threshold, card?.Metrics.Auc, finalBefore, maturity));
        }
        return result;
    }

    /// <summary>
    /// One version's performance over its predictions: estimated over all of them, realised and calibration over those
    /// with feedback whose outcome is final (logged no later than <paramref name="finalBefore"/>).
    /// </summary>
    private static VersionPerformance Performance(
        int version, IReadOnlyList<LoggedPrediction> rows, Dictionary<Guid, bool> labels, double threshold, double? referenceAuc, DateTimeOffset finalBefore, TimeSpan maturity)
    {
        var probabilities = rows.Select(r => r.Probability).ToArray();
        var maturing = rows.Where(r => r.Time > finalBefore).ToList();
        var labelled = rows.Where(r => r.Time <= finalBefore && labels.ContainsKey(r.Id)).ToList();
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
                (double)positives / y.Length,
                CalibrationCheck.From(p, y));
        }
        var outcomes = maturing.Count == 0 ? OutcomeStates.Final : maturing.Count == rows.Count ? OutcomeStates.Maturing : OutcomeStates.PartlyMaturing;
        DateTimeOffset? maturesAt = maturing.Count == 0 ? null : maturing.Max(r => r.Time) + maturity;
        return new VersionPerformance(version, rows.Count, realised, EstimatedPerformance.From(probabilities, threshold), referenceAuc,
            outcomes, maturing.Count, maturesAt);
    }

    private async Task<ModelCard?> CardAsync(string name, int version, CancellationToken ct)
    {
        var info = await registry.GetVersionAsync(name, version, ct);
        return info is null ? null : JsonSerializer.Deserialize<ModelCard>(info.CardJson, JsonDefaults.Options);
    }

    private SystemWindow System(IReadOnlyList<LoggedPrediction> rows)
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
}
