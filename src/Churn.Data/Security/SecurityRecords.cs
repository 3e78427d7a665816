namespace Churn.Data.Security;

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

/// <summary>An API key; only a hash of the secret is stored.</summary>
public sealed class ApiKey
{
    public Guid Id { get; set; }
    public required string Name { get; set; }
    public required string Role { get; set; }
    public required string Hash { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
}

/// <summary>A person who signs in to the dashboard; only a salted PBKDF2 hash of the password is stored.</summary>
public sealed class DashboardUser
{
    public Guid Id { get; set; }
    public required string UserName { get; set; }
    public required string PasswordHash { get; set; }
    public required string Role { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? LastLoginAt { get; set; }
}
