namespace Churn.Data.Mlflow;

/// <summary>A pending MLflow mirror operation, written in the same transaction as the change it mirrors.</summary>
public sealed class MlflowOutboxEntry
{
    public long Id { get; set; }
    public required string Kind { get; set; }
    public required string PayloadJson { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public int Attempts { get; set; }
    public DateTimeOffset NextAttemptAt { get; set; }
    public string? LastError { get; set; }
    public DateTimeOffset? DeliveredAt { get; set; }
}
