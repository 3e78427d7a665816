using Churn.Core.Retraining;

namespace Churn.Data.Retraining;

/// <summary>What a retraining produced (the challenger's version, its feedback rows) and what was decided about it.</summary>
public sealed record RetrainOutcome(int Version, PromotionDecision Decision, int FeedbackRows, string ReferencePath)
{
    public bool Promoted => Decision.Promote;

    /// <summary>One sentence for a person: what happened to the challenger and why.</summary>
    public string Message => Decision.Promote
        ? $"Promoted v{Version} to champion: {Decision.Reason}."
        : $"Registered v{Version} as challenger, not promoted: {Decision.Reason}.";
}
