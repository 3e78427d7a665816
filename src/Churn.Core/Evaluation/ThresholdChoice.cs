namespace Churn.Core.Evaluation;

/// <summary>The threshold that maximises expected profit, and the profit curve it was chosen from.</summary>
/// <param name="Threshold">The chosen cut-off.</param>
/// <param name="ExpectedProfit">Expected profit at that cut-off on the labelled data.</param>
/// <param name="Curve">Profit on the grid 0, 0.01, ..., 1 plus the chosen threshold, ascending by threshold.</param>
public sealed record ThresholdChoice(double Threshold, double ExpectedProfit, IReadOnlyList<ProfitPoint> Curve);
