namespace Churn.Data.Security;

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
