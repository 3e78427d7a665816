namespace Churn.Data.Security;

/// <summary>A key as listed: name, role and dates, never the secret or its hash.</summary>
public sealed record KeyInfo(Guid Id, string Name, string Role, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt);
