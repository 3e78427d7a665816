namespace Churn.Core.Evaluation;

/// <summary>One tenth of the customers, ranked by score, and how many of them churned.</summary>
/// <param name="Decile">1 for the highest-scored tenth, 10 for the lowest.</param>
/// <param name="Customers">Rows in this decile.</param>
/// <param name="Churners">Churners in this decile.</param>
/// <param name="ChurnRate">Churners / Customers.</param>
/// <param name="Lift">ChurnRate divided by the overall churn rate; 0 when nobody churned at all.</param>
/// <param name="CumulativeGain">Share of all churners found in deciles 1 to this one; 0 when nobody churned at all.</param>
public sealed record DecileLift(int Decile, int Customers, int Churners, double ChurnRate, double Lift, double CumulativeGain);
