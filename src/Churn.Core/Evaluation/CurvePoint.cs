namespace Churn.Core.Evaluation;

/// <summary>One point of a ROC or precision-recall curve.</summary>
/// <param name="X">False positive rate (ROC) or recall (precision-recall).</param>
/// <param name="Y">True positive rate (ROC) or precision (precision-recall).</param>
/// <param name="Threshold">The cut-off producing the point: rows with a score at or above it are predicted positive.</param>
public sealed record CurvePoint(double X, double Y, double Threshold);
