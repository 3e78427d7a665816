namespace Churn.Data.Monitoring;

/// <summary>The result of one monitoring check (drift, performance) over a time window.</summary>
public sealed class MonitoringResult
{
    public long Id { get; set; }
    public DateTimeOffset Time { get; set; }
    public required string Kind { get; set; }
    public DateTimeOffset WindowStart { get; set; }
    public DateTimeOffset WindowEnd { get; set; }
    public string ResultJson { get; set; } = "{}";
}

public sealed class Alert
{
    public Guid Id { get; set; }
    public required string Kind { get; set; }
    public required string Severity { get; set; }
    public required string Message { get; set; }
    public DateTimeOffset RaisedAt { get; set; }
    public DateTimeOffset? AcknowledgedAt { get; set; }
    public string? AcknowledgedBy { get; set; }
}
