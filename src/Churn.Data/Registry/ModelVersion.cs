namespace Churn.Data.Registry;

/// <summary>An immutable registered model version; its package file lives under the data directory.</summary>
public sealed class ModelVersion
{
    public long Id { get; init; }
    public required string ModelName { get; init; }
    public int Version { get; init; }
    public Guid RunId { get; init; }

    /// <summary>Path of the package file relative to the data directory, with forward slashes.</summary>
    public required string PackagePath { get; init; }
    public required string Sha256 { get; init; }
    public long SizeBytes { get; init; }
    public string CardJson { get; init; } = "{}";
    public DateTimeOffset CreatedAt { get; init; }
    public required string CreatedBy { get; init; }

    /// <summary>The version number MLflow assigned when the mirror registered this version there.</summary>
    public string? MlflowVersion { get; set; }
}

/// <summary>Where an alias points now; the concurrency token makes concurrent moves detectable.</summary>
public sealed class ModelAlias
{
    public required string ModelName { get; set; }
    public required string Alias { get; set; }
    public int Version { get; set; }
    public Guid ConcurrencyToken { get; set; }
}

/// <summary>One period during which an alias pointed at a version; <see cref="ValidTo"/> is null while it still does.</summary>
public sealed class AliasHistoryEntry
{
    public long Id { get; set; }
    public required string ModelName { get; set; }
    public required string Alias { get; set; }
    public int Version { get; set; }
    public DateTimeOffset ValidFrom { get; set; }
    public DateTimeOffset? ValidTo { get; set; }
    public required string MovedBy { get; set; }
    public string? Reason { get; set; }
}
