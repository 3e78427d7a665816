namespace Churn.Data.Jobs;

/// <summary>
/// A background job (a file scoring, a retraining) as the store keeps it, so every replica can report it and a restart
/// does not forget it. The replica that runs the job writes the row; <see cref="Instance"/> names that replica, so at its
/// next start it can fail what it left queued or running.
/// </summary>
public sealed class JobRecord
{
    public Guid Id { get; set; }

    /// <summary>"score" or "retrain".</summary>
    public required string Kind { get; set; }

    /// <summary>Queued, Running, Succeeded or Failed.</summary>
    public required string Status { get; set; }

    /// <summary>From 0 to 1.</summary>
    public double Progress { get; set; }

    public long RowsDone { get; set; }

    /// <summary>The key or dashboard user that asked for the job.</summary>
    public required string CreatedBy { get; set; }

    /// <summary>The replica (<c>Churn:InstanceId</c>) that runs the job.</summary>
    public required string Instance { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? StartedAt { get; set; }

    public DateTimeOffset? FinishedAt { get; set; }

    public string? Message { get; set; }

    public string? Error { get; set; }

    public int? ModelVersion { get; set; }

    /// <summary>The result file, relative to the data directory (shared by the replicas), or null.</summary>
    public string? ResultFile { get; set; }

    /// <summary>When the row was last written.</summary>
    public DateTimeOffset UpdatedAt { get; set; }
}
