namespace Churn.Data.Security;

/// <summary>One row of the append-only audit log: who changed what, to what, when and from where.</summary>
public sealed class AuditEntry
{
    public long Id { get; set; }
    public DateTimeOffset Time { get; set; }
    public required string Actor { get; set; }
    public required string Action { get; set; }
    public string? Target { get; set; }
    public string? Details { get; set; }
    public string? ClientAddress { get; set; }
}
