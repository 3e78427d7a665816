namespace Churn.Data.Security;

/// <summary>An audit entry as <c>GET /audit</c> and the dashboard show it.</summary>
public sealed record AuditResponse(long Id, DateTimeOffset Time, string Actor, string Action, string? Target, string? Details, string? ClientAddress);
