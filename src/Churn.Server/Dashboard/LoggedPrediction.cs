namespace Churn.Server.Dashboard;

/// <summary>A logged prediction as the dashboard reads it: when, which version, the probability and the inputs sent.</summary>
public sealed record LoggedPrediction(DateTimeOffset Time, int ModelVersion, double Probability, JsonElement Inputs);
