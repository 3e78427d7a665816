namespace Churn.Data.Security;

/// <summary>A freshly created key: the only time its secret exists outside the caller.</summary>
public sealed record CreatedKey(Guid Id, string Name, string Role, string Key, DateTimeOffset CreatedAt);
