namespace Churn.Core.Evaluation;

/// <summary>Expected profit when every customer with a probability at or above <paramref name="Threshold"/> is contacted.</summary>
/// <param name="Threshold">The cut-off.</param>
/// <param name="Contacted">Customers contacted.</param>
/// <param name="ExpectedProfit">Contacted churners × success rate × value, minus contacted × cost.</param>
public sealed record ProfitPoint(double Threshold, int Contacted, double ExpectedProfit);
