namespace Churn.Data.Monitoring;

/// <summary>A raised alert (kind, severity, message), open until someone acknowledges it.</summary>
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
