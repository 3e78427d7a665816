using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using Churn.Core.Drift;
using Churn.Core.Segments;

namespace Churn.Server.Settings;

// The brief names settings in snake_case (model.retraining_threshold); the same names are used in configuration
// files, in GET/PUT /config and in the settings table, so an operator never has to translate between them.

/// <summary>The "model" settings: when to retrain and how large training and scoring batches are.</summary>
public sealed class ModelSettings
{
    /// <summary>Drop of realised AUC below the champion's test AUC (from its card) that raises an alert and triggers retraining.</summary>
    [JsonPropertyName("retraining_threshold"), ConfigurationKeyName("retraining_threshold"), Range(0.0, 1.0)]
    public double RetrainingThreshold { get; set; } = 0.05;

    /// <summary>
    /// Share of drifted features above which a window counts as drifted: it raises an alert and triggers retraining. The
    /// default, and why it is 0.35, is <see cref="DriftOptions.DefaultDatasetDriftShare"/>; <c>churn drift</c> uses the same.
    /// </summary>
    [JsonPropertyName("drift_threshold"), ConfigurationKeyName("drift_threshold"), Range(0.0, 1.0)]
    public double DriftThreshold { get; set; } = DriftOptions.DefaultDatasetDriftShare;

    /// <summary>Fewer current values than this give a numeric feature no drift verdict (<see cref="DriftOptions.MinKsValues"/>).</summary>
    [JsonPropertyName("drift_min_values_ks"), ConfigurationKeyName("drift_min_values_ks"), Range(1, 1_000_000)]
    public int DriftMinValuesKs { get; set; } = DriftOptions.DefaultMinKsValues;

    /// <summary>Fewer current values than this give a categorical feature no drift verdict (<see cref="DriftOptions.MinChiSquaredValues"/>).</summary>
    [JsonPropertyName("drift_min_values_chi2"), ConfigurationKeyName("drift_min_values_chi2"), Range(1, 1_000_000)]
    public int DriftMinValuesChi2 { get; set; } = DriftOptions.DefaultMinChiSquaredValues;

    /// <summary>Rows scored per batch by file-scoring jobs.</summary>
    [JsonPropertyName("batch_size"), ConfigurationKeyName("batch_size"), Range(1, 1_000_000)]
    public int BatchSize { get; set; } = 10_000;

    /// <summary>AUC by which a challenger must beat the champion on the same held-out rows to be promoted.</summary>
    [JsonPropertyName("promotion_margin"), ConfigurationKeyName("promotion_margin"), Range(0.0, 1.0)]
    public double PromotionMargin { get; set; } = Churn.Core.Retraining.PromotionPolicy.DefaultMargin;

    /// <summary>
    /// Share of live predictions also scored by the challenger, off the request path, for <c>GET /monitoring/shadow</c>;
    /// zero turns shadow scoring off.
    /// </summary>
    [JsonPropertyName("shadow_share"), ConfigurationKeyName("shadow_share"), Range(0.0, 1.0)]
    public double ShadowShare { get; set; }

    /// <summary>Retrain on this schedule as well as on drift and performance; zero turns scheduled retraining off.</summary>
    [JsonPropertyName("retrain_interval"), ConfigurationKeyName("retrain_interval"), Range(typeof(TimeSpan), "00:00:00", "365.00:00:00")]
    public TimeSpan RetrainInterval { get; set; } = TimeSpan.Zero;
}

/// <summary>The "monitoring" settings.</summary>
public sealed class MonitoringSettings : IValidatableObject
{
    [JsonPropertyName("check_interval"), ConfigurationKeyName("check_interval"), Range(typeof(TimeSpan), "00:00:10", "7.00:00:00")]
    public TimeSpan CheckInterval { get; set; } = TimeSpan.FromSeconds(300);

    /// <summary>How far back a check looks for logged predictions.</summary>
    [JsonPropertyName("window"), ConfigurationKeyName("window"), Range(typeof(TimeSpan), "00:01:00", "365.00:00:00")]
    public TimeSpan Window { get; set; } = TimeSpan.FromDays(1);

    /// <summary>Share above which a data-quality problem (missing, out of range, unseen categories in any column) or the server error rate raises an alert.</summary>
    [JsonPropertyName("alert_threshold"), ConfigurationKeyName("alert_threshold"), Range(0.0, 1.0)]
    public double AlertThreshold { get; set; } = 0.1;

    [JsonPropertyName("retention_days"), ConfigurationKeyName("retention_days"), Range(1, 3650)]
    public int RetentionDays { get; set; } = 90;

    /// <summary>How long outcomes typically take to arrive; retention shorter than this loses predictions before their labels.</summary>
    [JsonPropertyName("label_delay_days"), ConfigurationKeyName("label_delay_days"), Range(0, 3650)]
    public int LabelDelayDays { get; set; } = 30;

    /// <summary>99th percentile of scoring latency above which an alert is raised.</summary>
    [JsonPropertyName("latency_p99_ms"), ConfigurationKeyName("latency_p99_ms"), Range(0.001, 600_000.0)]
    public double LatencyP99Ms { get; set; } = 100;

    /// <summary>An open alert of one kind is not raised again within this time.</summary>
    [JsonPropertyName("alert_cooldown"), ConfigurationKeyName("alert_cooldown"), Range(typeof(TimeSpan), "00:00:00", "30.00:00:00")]
    public TimeSpan AlertCooldown { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Columns whose segments each check also judges on their own (drift, data quality, performance, calibration), as read
    /// by <see cref="SegmentColumn.ParseList"/>: <c>contract; region; tenureMonths: 6, 24</c>. Empty: no segments.
    /// </summary>
    [JsonPropertyName("segments"), ConfigurationKeyName("segments"), MaxLength(2000)]
    public string Segments { get; set; } = "";

    /// <summary>
    /// How far observed churn may stray from expected (a ratio of 1) before a calibration alert: raised when the 95 %
    /// interval of observed over expected lies wholly above 1 + this or below 1 − this.
    /// </summary>
    [JsonPropertyName("calibration_tolerance"), ConfigurationKeyName("calibration_tolerance"), Range(0.0, 1.0)]
    public double CalibrationTolerance { get; set; } = 0.05;

    /// <summary>
    /// Days after a prediction within which a churn counts as its outcome. A prediction's outcome is final once this and
    /// <see cref="LabelDelayDays"/> have passed; realised metrics cover only such predictions and younger windows are shown
    /// as maturing. Zero (the default) treats every outcome as final as soon as it arrives.
    /// </summary>
    [JsonPropertyName("outcome_window_days"), ConfigurationKeyName("outcome_window_days"), Range(0, 3650)]
    public int OutcomeWindowDays { get; set; }

    /// <summary>
    /// How long after a prediction its outcome is final: <see cref="OutcomeWindowDays"/> plus <see cref="LabelDelayDays"/>,
    /// or zero while no outcome window is set.
    /// </summary>
    public TimeSpan OutcomeMaturity() => OutcomeWindowDays == 0 ? TimeSpan.Zero : TimeSpan.FromDays(OutcomeWindowDays + LabelDelayDays);

    /// <summary>The segment columns of <see cref="Segments"/>; valid once the settings passed validation.</summary>
    public IReadOnlyList<SegmentColumn> SegmentColumns() => SegmentColumn.ParseList(Segments);

    /// <inheritdoc/>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        string? problem = null;
        try
        {
            SegmentColumn.ParseList(Segments);
        }
        catch (FormatException ex)
        {
            problem = ex.Message;
        }
        if (problem is not null)
        {
            yield return new ValidationResult(problem, [nameof(Segments)]);
        }
    }
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

    /// <summary>
    /// What a scoring request (<c>/predict</c>, <c>/predict/batch</c>, <c>/invocations</c>, <c>/v2/.../infer</c>) may do
    /// with a field or column the model does not know: <c>reject</c> it (422 naming it) or <c>ignore</c> it (scored
    /// without it; the response lists what was ignored).
    /// </summary>
    [JsonPropertyName("unknown_fields"), ConfigurationKeyName("unknown_fields"), Required]
    [AllowedValues(UnknownFieldsReject, UnknownFieldsIgnore, ErrorMessage = "The field UnknownFields must be reject or ignore.")]
    public string UnknownFields { get; set; } = UnknownFieldsReject;

    /// <summary>The value of <see cref="UnknownFields"/> that refuses unknown fields (the default).</summary>
    public const string UnknownFieldsReject = "reject";

    /// <summary>The value of <see cref="UnknownFields"/> that scores without unknown fields and lists them.</summary>
    public const string UnknownFieldsIgnore = "ignore";

    /// <summary>True when <see cref="UnknownFields"/> is <c>ignore</c>.</summary>
    public bool IgnoresUnknownFields() => UnknownFields == UnknownFieldsIgnore;
}

/// <summary>One consistent view of every runtime setting; replaced as a whole when settings change.</summary>
public sealed record SettingsSnapshot(
    [property: JsonPropertyName("model")] ModelSettings Model,
    [property: JsonPropertyName("monitoring")] MonitoringSettings Monitoring,
    [property: JsonPropertyName("api")] ApiSettings Api);
