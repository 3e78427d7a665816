namespace Churn.Data.Retraining;

/// <summary>Thrown when another process or replica holds the training lock; names the holder when it is known.</summary>
public sealed class TrainingLockedException(string? holder)
    : Exception($"Another training is under way{(holder is null ? "" : $" ({holder})")}; only one runs at a time.")
{
    /// <summary>Who holds the training lock, when known.</summary>
    public string? Holder { get; } = holder;
}
