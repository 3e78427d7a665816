namespace Churn.Data.Predictions;

/// <summary>One logged prediction as the monitoring check reads it, without its inputs (those are in <see cref="LoggedWindow.Inputs"/>).</summary>
public readonly record struct LoggedPrediction(Guid Id, int ModelVersion, string? CustomerId, double Probability, long LatencyMicroseconds, DateTimeOffset Time);
