namespace Churn.Data.Predictions;

/// <summary>One scored request, kept for monitoring and for joining with observed outcomes.</summary>
public sealed class PredictionLogEntry
{
    public Guid Id { get; set; }
    public DateTimeOffset Time { get; set; }
    public required string ModelName { get; set; }
    public int ModelVersion { get; set; }
    public string? CustomerId { get; set; }
    public string InputsJson { get; set; } = "{}";
    public string OutputsJson { get; set; } = "{}";
    public double Probability { get; set; }
    public long LatencyMicroseconds { get; set; }

    /// <summary>
    /// A prediction of the server's own warm-up before readiness: it takes the log's whole way (journal serialisation,
    /// buffer, the store's insert) so that code is compiled before real traffic, but is never written to the journal,
    /// the spill file or the store. Not a column.
    /// </summary>
    public bool Rehearsal { get; set; }
}

/// <summary>An observed outcome: whether a customer actually churned.</summary>
public sealed class FeedbackEntry
{
    public long Id { get; set; }
    public Guid? PredictionId { get; set; }
    public string? CustomerId { get; set; }
    public bool Churned { get; set; }
    public DateTimeOffset ObservedAt { get; set; }
}
