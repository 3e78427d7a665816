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
