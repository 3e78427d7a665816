namespace Churn.Server.Dashboard;

/// <summary>The overview's risk figures over <see cref="Window"/>: predictions logged, those at risk and the revenue they carry.</summary>
public sealed record RiskSummary(int Predictions, int AtRisk, double RevenueAtRisk, int WithValue, TimeSpan Window);
