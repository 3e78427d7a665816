using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;

namespace Churn.Server.Settings;

// The brief names settings in snake_case (model.retraining_threshold); the same names are used in configuration
// files, in GET/PUT /config and in the settings table, so an operator never has to translate between them.

/// <summary>The "model" settings: when to retrain and how large training and scoring batches are.</summary>
public sealed class ModelSettings
{
    /// <summary>Drop in AUC against the training metrics that triggers retraining.</summary>
    [JsonPropertyName("retraining_threshold"), ConfigurationKeyName("retraining_threshold"), Range(0.0, 1.0)]
    public double RetrainingThreshold { get; set; } = 0.05;

    /// <summary>Population stability index above which a feature counts as drifted.</summary>
    [JsonPropertyName("drift_threshold"), ConfigurationKeyName("drift_threshold"), Range(0.0, 10.0)]
    public double DriftThreshold { get; set; } = 0.2;

    /// <summary>Rows scored per batch by file-scoring jobs.</summary>
    [JsonPropertyName("batch_size"), ConfigurationKeyName("batch_size"), Range(1, 1_000_000)]
    public int BatchSize { get; set; } = 10_000;
}

/// <summary>The "monitoring" settings.</summary>
public sealed class MonitoringSettings
{
    [JsonPropertyName("check_interval"), ConfigurationKeyName("check_interval"), Range(typeof(TimeSpan), "00:00:10", "7.00:00:00")]
    public TimeSpan CheckInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Share of drifted features (or performance drop) that raises an alert.</summary>
    [JsonPropertyName("alert_threshold"), ConfigurationKeyName("alert_threshold"), Range(0.0, 1.0)]
    public double AlertThreshold { get; set; } = 0.1;

    [JsonPropertyName("retention_days"), ConfigurationKeyName("retention_days"), Range(1, 3650)]
    public int RetentionDays { get; set; } = 90;
}

/// <summary>The "api" settings.</summary>
public sealed class ApiSettings
{
    /// <summary>Requests per minute per API key.</summary>
    [JsonPropertyName("rate_limit"), ConfigurationKeyName("rate_limit"), Range(1, 10_000_000)]
    public int RateLimit { get; set; } = 100;

    [JsonPropertyName("timeout"), ConfigurationKeyName("timeout"), Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    [JsonPropertyName("max_batch_size"), ConfigurationKeyName("max_batch_size"), Range(1, 10_000)]
    public int MaxBatchSize { get; set; } = 100;
}

/// <summary>One consistent view of every runtime setting; replaced as a whole when settings change.</summary>
public sealed record SettingsSnapshot(
    [property: JsonPropertyName("model")] ModelSettings Model,
    [property: JsonPropertyName("monitoring")] MonitoringSettings Monitoring,
    [property: JsonPropertyName("api")] ApiSettings Api);
