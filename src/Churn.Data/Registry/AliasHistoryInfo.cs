namespace Churn.Data.Registry;

/// <summary>One position an alias held: the version, from when to when (null while current), who moved it and why.</summary>
public sealed record AliasHistoryInfo(
    string ModelName,
    string Alias,
    int Version,
    DateTimeOffset ValidFrom,
    DateTimeOffset? ValidTo,
    string MovedBy,
    string? Reason);
