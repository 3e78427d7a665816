using Churn.Data.Monitoring;

namespace Churn.Server.Monitoring;

/// <summary>An alert as <c>GET /alerts</c>, the webhook and the dashboard show it.</summary>
public sealed record AlertResponse(Guid Id, string Kind, string Severity, string Message, DateTimeOffset RaisedAt, DateTimeOffset? AcknowledgedAt, string? AcknowledgedBy);

internal static class AlertMapping
{
    public static AlertResponse AsResponse(this Alert a) => new(a.Id, a.Kind, a.Severity, a.Message, a.RaisedAt, a.AcknowledgedAt, a.AcknowledgedBy);
}
