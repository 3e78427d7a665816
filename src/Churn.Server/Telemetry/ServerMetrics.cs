using System.Diagnostics;
using System.Diagnostics.Metrics;
using OpenTelemetry.Metrics;

namespace Churn.Server.Telemetry;

/// <summary>
/// The server's own meters. Request counts and latency come from the ASP.NET Core instrumentation
/// (<c>http_server_request_duration_seconds</c>); these add predictions by model version, scoring time and errors.
/// </summary>
public sealed class ServerMetrics
{
    public const string MeterName = "Churn.Server";

    private readonly Counter<long> predictions;
    private readonly Histogram<double> scoring;
    private readonly Counter<long> errors;
    private readonly Counter<long> spilled;
    private readonly Counter<long> spillFailed;
    private long servedTotal;
    private long serverErrorTotal;

    public ServerMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        predictions = meter.CreateCounter<long>("churn.predictions", "{prediction}", "Predictions served, by model version.");
        // Scoring takes microseconds to milliseconds; the default buckets (0 to 10,000) would put every sample in the first one.
        scoring = meter.CreateHistogram<double>("churn.prediction.duration", "s", "Time to score one customer, explanations included.", tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1] });
        errors = meter.CreateCounter<long>("churn.errors", "{error}", "Error responses, by status code.");
        spilled = meter.CreateCounter<long>("churn.prediction_log.spilled", "{prediction}", "Predictions written to the local spill file because the store was unavailable.");
        spillFailed = meter.CreateCounter<long>("churn.prediction_log.spill_failed", "{prediction}", "Predictions the spill file refused (disk full or not writable).");
    }

    public void Predicted(string model, int version, double seconds)
    {
        var tags = new TagList { { "model", model }, { "model_version", version } };
        predictions.Add(1, tags);
        Interlocked.Increment(ref servedTotal);
        scoring.Record(seconds, tags);
    }

    public void Error(int status)
    {
        errors.Add(1, new KeyValuePair<string, object?>("status", status));
        if (status >= 500)
        {
            Interlocked.Increment(ref serverErrorTotal);
        }
    }

    /// <summary>Predictions served and server errors (5xx) since start, for the monitoring check's error rate.</summary>
    public (long Served, long ServerErrors) Totals => (Interlocked.Read(ref servedTotal), Interlocked.Read(ref serverErrorTotal));

    public void Spilled(int count) => spilled.Add(count);

    public void SpillFailed(int count) => spillFailed.Add(count);
}

public static class TelemetryRegistration
{
    public static IHostApplicationBuilder AddTelemetry(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ServerMetrics>();
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddAspNetCoreInstrumentation()
            .AddRuntimeInstrumentation()
            .AddMeter(ServerMetrics.MeterName)
            .AddPrometheusExporter());
        return builder;
    }
}
