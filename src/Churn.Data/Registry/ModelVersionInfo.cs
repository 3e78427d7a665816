namespace Churn.Data.Registry;

/// <summary>A registered version as callers see it: its package file, checksum, card and the aliases pointing at it.</summary>
public sealed record ModelVersionInfo(
    string ModelName,
    int Version,
    Guid RunId,
    string PackagePath,
    string Sha256,
    long SizeBytes,
    string CardJson,
    DateTimeOffset CreatedAt,
    string CreatedBy,
    IReadOnlyList<string> Aliases);
