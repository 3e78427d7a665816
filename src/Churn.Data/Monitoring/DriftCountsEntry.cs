namespace Churn.Data.Monitoring;

/// <summary>
/// One time bucket of the prediction log counted for the drift verdict (<see cref="Core.Drift.DriftCounts"/>, as JSON):
/// the rows of one model logged from <see cref="BucketStart"/> for <see cref="WindowDriftCounts.Bucket"/>, counted against
/// the card of version <see cref="CardVersion"/>. Derived from the log and rebuilt from it whenever the bucket's rows
/// change; it holds no customer id.
/// </summary>
public sealed class DriftCountsEntry
{
    public long Id { get; set; }

    public required string ModelName { get; set; }

    /// <summary>The model version whose card the counts were taken against: its grid, its reference bins, its own scores.</summary>
    public int CardVersion { get; set; }

    /// <summary>The bucket's first instant (UTC, a multiple of the bucket length since the Unix epoch).</summary>
    public DateTimeOffset BucketStart { get; set; }

    /// <summary>
    /// Rows of the whole prediction log (every model) in the bucket when it was counted. A different number now means
    /// rows came (a replayed spill) or went (an erasure) since, and the bucket is counted again.
    /// </summary>
    public long LoggedRows { get; set; }

    /// <summary>The counts, <see cref="Core.Drift.DriftCounts.ToJson"/>.</summary>
    public string CountsJson { get; set; } = "{}";
}
