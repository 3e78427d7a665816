using System.Globalization;
using Churn.Core.Drift;
using Churn.Core.Models;
using Churn.Core.Quality;
using Churn.Server.Monitoring;
using MudBlazor;

namespace Churn.Server.Dashboard;

/// <summary>One window's data quality in a line: the worst column for each kind of problem.</summary>
public sealed record QualityRow(
    DateTimeOffset WindowEnd,
    int Rows,
    double MissingShare,
    string? MissingColumn,
    double OutOfRangeShare,
    string? OutOfRangeColumn,
    double UnseenShare,
    string? UnseenColumn,
    int UnseenValues,
    int DuplicateIds,
    int TypeViolations);

/// <summary>One model version's realised and estimated performance in one window.</summary>
public sealed record PerformanceRow(DateTimeOffset WindowEnd, VersionPerformance Version);

/// <summary>One window's serving health.</summary>
public sealed record SystemRow(DateTimeOffset WindowEnd, SystemWindow System);

/// <summary>A chart's labels and series, ready for MudChart.</summary>
public sealed record ChartView(string[] Labels, List<ChartSeries<double>> Series)
{
    public bool IsEmpty => Series.Count == 0 || Labels.Length == 0;

    /// <summary>Lines over time; bars while there is a single check, since a line of one point draws nothing.</summary>
    public ChartType Type => Labels.Length > 1 ? ChartType.Line : ChartType.Bar;
}

/// <summary>
/// The stored monitoring time series (read with <see cref="MonitoringSeries"/>, as <c>GET /monitoring/*</c> does) shaped
/// for the monitoring page: drift per feature over time, quality per window, realised vs estimated performance, latency.
/// </summary>
public sealed class MonitoringHistory
{
    /// <summary>Checks shown at most per chart: enough for a week of hourly checks to read, not so many the labels blur.</summary>
    public const int MaxPoints = 48;

    /// <summary>Features drawn in the drift chart besides the chosen one: the most important to the model.</summary>
    public const int DriftFeatures = 5;

    public IReadOnlyList<(DateTimeOffset Time, DriftReport Report)> Drift { get; private init; } = [];

    public IReadOnlyList<QualityRow> Quality { get; private init; } = [];

    public IReadOnlyList<(DateTimeOffset Time, PerformanceWindow Window)> Performance { get; private init; } = [];

    public IReadOnlyList<SystemRow> Serving { get; private init; } = [];

    /// <summary>Each check's segments (<c>monitoring.segments</c>), oldest first.</summary>
    public IReadOnlyList<(DateTimeOffset Time, SegmentsWindow Window)> Segments { get; private init; } = [];

    /// <summary>Every segment any check in the span judged, in order of name.</summary>
    public IReadOnlyList<string> SegmentNames =>
        [.. Segments.SelectMany(s => s.Window.Segments).Select(s => s.Segment).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];

    /// <summary>The latest check's result for one segment; null when no check holds it.</summary>
    public SegmentResult? LatestSegment(string segment) =>
        Segments.Reverse().Select(s => s.Window.Segments.FirstOrDefault(g => g.Segment == segment)).FirstOrDefault(g => g is not null);

    /// <summary>
    /// Observed over expected churn (%) with its 95 % interval at every check that had enough labelled predictions: for
    /// the main version over the whole window, or for the champion in one segment. 100 is a calibrated model.
    /// </summary>
    public ChartView CalibrationChart(string? segment)
    {
        var points = (segment is null
                ? MainVersionRows().Select(r => (Time: r.WindowEnd, Check: r.Version.Realised?.Calibration))
                : Segments.Select(s => (Time: s.Time, Check: s.Window.Segments.FirstOrDefault(g => g.Segment == segment)?.Performance?.Realised?.Calibration)))
            .Where(p => p.Check?.Ratio is not null)
            .ToList();
        if (points.Count == 0)
        {
            return new ChartView([], []);
        }
        return new ChartView(Labels(points.Select(p => p.Time)),
        [
            Charts.Percent("Observed / expected", points.Select(p => p.Check!.Ratio!.Value)),
            Charts.Percent("95 % low", points.Select(p => p.Check!.Low!.Value)),
            Charts.Percent("95 % high", points.Select(p => p.Check!.High!.Value)),
            Charts.Percent("Calibrated", points.Select(_ => 1.0)),
        ]);
    }

    public bool IsEmpty => Drift.Count == 0 && Quality.Count == 0 && Performance.Count == 0 && Serving.Count == 0;

    public static async Task<MonitoringHistory> ReadAsync(StoreFactory store, DateTimeOffset now, TimeSpan span, CancellationToken ct)
    {
        var from = now - span;
        return new MonitoringHistory
        {
            Drift = [.. (await MonitoringSeries.ReadAsync(store, MonitoringKinds.Drift, from, now, MaxPoints, ct)).Select(p => (p.WindowEnd, Read<DriftReport>(p.Result)))],
            Quality = [.. (await MonitoringSeries.ReadAsync(store, MonitoringKinds.Quality, from, now, MaxPoints, ct)).Select(p => AsRow(p.WindowEnd, Read<DataQualityReport>(p.Result)))],
            Performance = [.. (await MonitoringSeries.ReadAsync(store, MonitoringKinds.Performance, from, now, MaxPoints, ct)).Select(p => (p.WindowEnd, Read<PerformanceWindow>(p.Result)))],
            Serving = [.. (await MonitoringSeries.ReadAsync(store, MonitoringKinds.System, from, now, MaxPoints, ct)).Select(p => new SystemRow(p.WindowEnd, Read<SystemWindow>(p.Result)))],
            Segments = [.. (await MonitoringSeries.ReadAsync(store, MonitoringKinds.Segments, from, now, MaxPoints, ct)).Select(p => (p.WindowEnd, Read<SegmentsWindow>(p.Result)))],
        };
    }

    /// <summary>PSI of each of <paramref name="features"/> at every drift check, times 100 so the axis has whole ticks.</summary>
    public ChartView DriftChart(IEnumerable<string> features)
    {
        var labels = Labels(Drift.Select(d => d.Time));
        var series = new List<ChartSeries<double>>();
        foreach (var feature in features.Distinct(StringComparer.Ordinal))
        {
            var values = Drift.Select(d => d.Report.Features.FirstOrDefault(f => f.Feature == feature)?.Psi ?? 0).ToList();
            series.Add(Charts.Percent(feature, values));
        }
        return new ChartView(labels, Drift.Count == 0 ? [] : series);
    }

    /// <summary>The share of drifted features at every check (%).</summary>
    public ChartView DriftShareChart() =>
        new(Labels(Drift.Select(d => d.Time)), Drift.Count == 0 ? [] : [Charts.Percent("Features drifted", Drift.Select(d => d.Report.DriftedShare))]);

    /// <summary>
    /// The version with the most predictions in each window (normally the champion), realised beside estimated F1, and
    /// realised AUC beside the test AUC where outcomes are known; windows without outcomes show the estimate alone.
    /// </summary>
    public ChartView PerformanceChart()
    {
        var rows = MainVersionRows();
        var realised = rows.Where(r => r.Version.Realised is not null).ToList();
        if (realised.Count > 0)
        {
            var series = new List<ChartSeries<double>>
            {
                Charts.Percent("Estimated F1", realised.Select(r => r.Version.Estimated?.F1 ?? 0)),
                Charts.Percent("Realised F1", realised.Select(r => r.Version.Realised!.F1)),
            };
            if (realised.All(r => r.Version.Realised!.Auc is not null && r.Version.ReferenceAuc is not null))
            {
                series.Add(Charts.Percent("Realised AUC", realised.Select(r => r.Version.Realised!.Auc!.Value)));
                series.Add(Charts.Percent("Test AUC", realised.Select(r => r.Version.ReferenceAuc!.Value)));
            }
            return new ChartView(Labels(realised.Select(r => r.WindowEnd)), series);
        }
        var estimated = rows.Where(r => r.Version.Estimated is not null).ToList();
        return new ChartView(Labels(estimated.Select(r => r.WindowEnd)),
            estimated.Count == 0 ? [] : [Charts.Percent("Estimated F1", estimated.Select(r => r.Version.Estimated!.F1)), Charts.Percent("Expected churn rate", estimated.Select(r => r.Version.Estimated!.ExpectedPositiveShare))]);
    }

    public bool HasRealised => Performance.Any(p => p.Window.Versions.Any(v => v.Realised is not null));

    /// <summary>Every version of the latest window, for the table under the chart.</summary>
    public IReadOnlyList<VersionPerformance> LatestPerformance => Performance.Count == 0 ? [] : Performance[^1].Window.Versions;

    /// <summary>Scoring latency p50 and p99 at every check with predictions, in milliseconds or, when all are under 10 ms, microseconds.</summary>
    public (ChartView Chart, string Unit) LatencyChart()
    {
        var rows = Serving.Where(s => s.System.LatencyP50Ms is not null && s.System.LatencyP99Ms is not null).ToList();
        if (rows.Count == 0)
        {
            return (new ChartView([], []), "ms");
        }
        // Axes tick in whole steps, so sub-millisecond latencies would lie flat in milliseconds.
        var micro = rows.All(r => r.System.LatencyP99Ms < 10);
        var scale = micro ? 1000.0 : 1.0;
        return (new ChartView(Labels(rows.Select(r => r.WindowEnd)),
            [Charts.Series("p50", rows.Select(r => r.System.LatencyP50Ms!.Value * scale)), Charts.Series("p99", rows.Select(r => r.System.LatencyP99Ms!.Value * scale))]),
            micro ? "µs" : "ms");
    }

    /// <summary>Server error rate (%) at every check that saw enough requests to give one.</summary>
    public ChartView ErrorChart()
    {
        var rows = Serving.Where(s => s.System.ErrorRate is not null).ToList();
        return new ChartView(Labels(rows.Select(r => r.WindowEnd)), rows.Count == 0 ? [] : [Charts.Percent("Server errors", rows.Select(r => r.System.ErrorRate!.Value))]);
    }

    /// <summary>A time span in words ("5 minutes", "1 day", "1 h 30 min"), for sentences on the page.</summary>
    public static string Words(TimeSpan span) => span switch
    {
        { TotalDays: >= 1 } when span.Ticks % TimeSpan.TicksPerDay == 0 => Plural((int)span.TotalDays, "day"),
        { TotalHours: >= 1 } when span.Ticks % TimeSpan.TicksPerHour == 0 => Plural((int)span.TotalHours, "hour"),
        { TotalMinutes: >= 1 } when span.Ticks % TimeSpan.TicksPerMinute == 0 => Plural((int)span.TotalMinutes, "minute"),
        { TotalHours: >= 1 } => $"{(int)span.TotalHours} h {span.Minutes} min",
        _ => Plural((int)Math.Round(span.TotalSeconds), "second"),
    };

    private static string Plural(int n, string unit) => n == 1 ? $"1 {unit}" : $"{n} {unit}s";

    public static string Share(double? value) => value is { } v ? v.ToString("0.0%", CultureInfo.InvariantCulture) : "n/a";

    public static string Number(double? value, string format = "0.000") => value is { } v ? v.ToString(format, CultureInfo.InvariantCulture) : "n/a";

    private List<PerformanceRow> MainVersionRows() =>
        [.. Performance.Where(p => p.Window.Versions.Count > 0)
            .Select(p => new PerformanceRow(p.Time, p.Window.Versions.OrderByDescending(v => v.Predictions).ThenByDescending(v => v.ModelVersion).First()))];

    private static QualityRow AsRow(DateTimeOffset time, DataQualityReport report)
    {
        var missing = report.Columns.MaxBy(c => c.MissingShare);
        var outOfRange = report.Columns.Where(c => c.OutOfRangeShare is not null).MaxBy(c => c.OutOfRangeShare);
        var unseen = report.Columns.MaxBy(c => c.UnseenShare);
        return new QualityRow(
            time,
            report.Rows,
            missing?.MissingShare ?? 0,
            missing is { MissingShare: > 0 } ? missing.Column : null,
            outOfRange?.OutOfRangeShare ?? 0,
            outOfRange is { OutOfRangeShare: > 0 } ? outOfRange.Column : null,
            unseen?.UnseenShare ?? 0,
            unseen is { UnseenShare: > 0 } ? unseen.Column : null,
            report.Columns.Sum(c => Math.Max(c.UnseenLevels, c.UnseenCategories.Count)),
            report.DuplicateIds,
            report.Columns.Sum(c => c.Unparseable));
    }

    /// <summary>Check times as chart labels: the time of day, with the date where it changes; every n-th only when there are many.</summary>
    private static string[] Labels(IEnumerable<DateTimeOffset> times)
    {
        var list = times.ToList();
        var every = Math.Max(1, (int)Math.Ceiling(list.Count / 12.0));
        var labels = new string[list.Count];
        for (var i = 0; i < list.Count; i++)
        {
            var t = list[i].UtcDateTime;
            var newDay = i == 0 || list[i - 1].UtcDateTime.Date != t.Date;
            labels[i] = i % every != 0 ? "" : t.ToString(newDay ? "MM-dd HH:mm" : "HH:mm:ss", CultureInfo.InvariantCulture);
        }
        return labels;
    }

    private static T Read<T>(JsonElement json) => json.Deserialize<T>(JsonDefaults.Options)
        ?? throw new JsonException($"A stored {typeof(T).Name} is empty.");
}
