namespace Churn.Data.Tracking;

public enum RunStatus
{
    Running,
    Finished,
    Failed,
}

/// <summary>What started a training run.</summary>
public enum RunTrigger
{
    User,
    Schedule,
    Drift,
    Performance,
}

/// <summary>One training run: what went in (parameters, data), what came out (metrics, artifacts) and how it ended.</summary>
public sealed class TrainingRun
{
    public Guid Id { get; set; }
    public required string ModelName { get; set; }
    public string ParamsJson { get; set; } = "{}";
    public string MetricsJson { get; set; } = "{}";

    /// <summary>JSON object of artifact name to path relative to the data directory (model package, model card).</summary>
    public string ArtifactsJson { get; set; } = "{}";
    public string? DatasetFingerprint { get; set; }
    public RunStatus Status { get; set; }
    public DateTimeOffset StartedAt { get; set; }
    public DateTimeOffset? EndedAt { get; set; }
    public double? DurationSeconds { get; set; }
    public RunTrigger Trigger { get; set; }

    /// <summary>The version of the same model this run started from (the champion being retrained), if any.</summary>
    public int? ParentModelVersion { get; set; }
    public string? Error { get; set; }

    /// <summary>The id MLflow gave the mirrored run, once it has been created there.</summary>
    public string? MlflowRunId { get; set; }
}
