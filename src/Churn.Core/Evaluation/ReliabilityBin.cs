namespace Churn.Core.Evaluation;

/// <summary>One bin of a reliability (calibration) curve.</summary>
/// <param name="Lower">Inclusive lower edge.</param>
/// <param name="Upper">Exclusive upper edge, except that the last bin also holds probability 1.</param>
/// <param name="Count">Rows in the bin (never 0: empty bins are omitted).</param>
/// <param name="MeanPredicted">Mean predicted probability of those rows.</param>
/// <param name="ObservedRate">Share of those rows that churned.</param>
public sealed record ReliabilityBin(double Lower, double Upper, int Count, double MeanPredicted, double ObservedRate);
