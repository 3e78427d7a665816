using Churn.Core.Retraining;
using Churn.Core.Survival;
using Churn.Data.Security;

namespace Churn.Data.Survival;

/// <summary>Whether a newly trained survival model replaces the survival champion, decided as a classifier's retraining is.</summary>
public static class SurvivalPromotion
{
    /// <summary>The name the decision gives its measure.</summary>
    public const string Metric = "C-index";

    /// <summary>
    /// Compares the challenger (registered as <paramref name="challengerVersion"/>) with the survival champion of
    /// <paramref name="modelName"/> by Harrell's C-index on the same held-out customers, under <paramref name="policy"/>
    /// (the challenger must win by its margin), and promotes the challenger when it wins. A refusal is audited as
    /// <c>model.promotion_refused</c>, a promotion as <c>model.promote</c> with the figures. With no champion yet the
    /// challenger is promoted outright and the answer is null.
    /// </summary>
    /// <param name="heldOut">
    /// The held-out customers (ones the challenger was not trained on) read through a model's schema: each model reads
    /// them through its own, since their covariates may differ.
    /// </param>
    /// <exception cref="ModelIntegrityException">The champion's package is missing or damaged.</exception>
    public static async Task<PromotionDecision?> DecideAsync(
        ChurnStore store, string modelName, int challengerVersion, SurvivalModel challenger, Func<SurvivalSchema, SurvivalData> heldOut, PromotionPolicy policy, AuditActor by,
        CancellationToken cancellationToken)
    {
        var champion = await store.Registry.ResolveAliasAsync(modelName, ModelAliases.Champion, cancellationToken);
        if (champion is null)
        {
            await store.Changes.PromoteAsync(modelName, challengerVersion, ModelAliases.Champion, by, "the first survival model", cancellationToken);
            return null;
        }
        var current = SurvivalModel.Load(store.Registry.PackagePath(champion, verifySha256: true));
        var challengerData = heldOut(challenger.Schema);
        var decision = policy.Decide(current.Evaluate(heldOut(current.Schema)).CIndex, challenger.Evaluate(challengerData).CIndex, challengerData.RowCount,
            champion.Version, challengerVersion, Metric);
        var details = new { decision, championVersion = champion.Version, challengerVersion, reason = decision.Reason };
        if (decision.Promote)
        {
            await store.Changes.PromoteAsync(modelName, challengerVersion, ModelAliases.Champion, by, decision.Reason, cancellationToken, details: details);
        }
        else
        {
            await store.Audit.RecordAsync(by, "model.promotion_refused", $"{modelName}:v{challengerVersion}", details);
        }
        return decision;
    }
}
