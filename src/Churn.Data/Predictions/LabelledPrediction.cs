namespace Churn.Data.Predictions;

/// <summary>A logged prediction with the outcome reported for it: its id, customer, logged inputs and whether the customer churned.</summary>
public sealed record LabelledPrediction(Guid PredictionId, DateTimeOffset Time, string? CustomerId, string InputsJson, bool Churned)
{
    /// <summary>When the outcome was observed: the churn date of a customer who churned, else when they were last seen staying.</summary>
    public DateTimeOffset ObservedAt { get; init; }
}
