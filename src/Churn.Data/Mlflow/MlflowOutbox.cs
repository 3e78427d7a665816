namespace Churn.Data.Mlflow;

/// <summary>The kinds of mirror operations and their payloads.</summary>
internal static class MirrorKinds
{
    public const string Run = "run";
    public const string ModelVersion = "model-version";
    public const string AliasSet = "alias-set";
    public const string AliasDelete = "alias-delete";

    /// <summary>The files of a version that MLflow could not take when the version was registered; added by the mirror itself.</summary>
    public const string Artifacts = "artifacts";
}

internal sealed record RunPayload(Guid RunId);

internal sealed record VersionPayload(string ModelName, int Version);

internal sealed record AliasPayload(string ModelName, string Alias, int? Version);

/// <summary>
/// Adds mirror operations to the context being saved, so an operation exists exactly when the change it mirrors
/// was committed. Nothing is queued while mirroring is off.
/// </summary>
public sealed class MlflowOutbox(MlflowOptions options)
{
    public bool Enabled => options.Enabled;

    internal void Add(ChurnDbContext db, string kind, object payload, DateTimeOffset now)
    {
        if (!options.Enabled)
        {
            return;
        }
        db.MlflowOutbox.Add(new MlflowOutboxEntry
        {
            Kind = kind,
            PayloadJson = JsonSerializer.Serialize(payload, payload.GetType()),
            CreatedAt = now,
            NextAttemptAt = now,
        });
    }
}
