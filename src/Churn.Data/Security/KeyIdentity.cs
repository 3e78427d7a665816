namespace Churn.Data.Security;

/// <summary>A key as seen by authentication: never the secret.</summary>
public sealed record KeyIdentity(Guid Id, string Name, string Role);
