namespace Churn.Core.Retraining;

/// <summary>
/// What <see cref="PromotionPolicy"/> decided: whether the challenger replaces the champion, both models' value of the
/// metric on the same held-out rows, the margin that applied, and the reason in one sentence (also when refused).
/// </summary>
public sealed record PromotionDecision(
    bool Promote, string Metric, double Champion, double Challenger, double Margin, int HeldOutRows, string Reason);
