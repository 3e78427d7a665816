namespace Churn.Core.Campaigns;

/// <summary>
/// What a churn campaign changed, from its treated-minus-holdout effect on the churn rate: customers retained among the
/// treated (with the interval carried through), the profit that implies, and whether contact did harm.
/// </summary>
/// <param name="Retained">Estimated customers retained = (holdout churn rate − treated churn rate) × treated customers.</param>
/// <param name="RetainedLow">Lower end, from the effect's 95 % interval.</param>
/// <param name="RetainedHigh">Upper end, from the effect's 95 % interval.</param>
/// <param name="Profit">Retained × value of a retained customer − contacts × cost per contact (money).</param>
/// <param name="Harmful">True when treated customers churned more than the holdout with an interval that excludes zero.</param>
public sealed record CampaignImpact(double Retained, double RetainedLow, double RetainedHigh, double Profit, bool Harmful)
{
    /// <summary>Computes the impact from the treated arm's effect on the churn rate (treated minus holdout).</summary>
    /// <param name="churnEffect">The treated arm's effect on the churn rate.</param>
    /// <param name="treated">Treated customers with an outcome.</param>
    /// <param name="contacts">Contacts made (each costs <paramref name="costPerContact"/>).</param>
    /// <param name="valueOfRetained">Value of a retained customer (money).</param>
    /// <param name="costPerContact">Cost per contact (money).</param>
    public static CampaignImpact Of(ArmEffect churnEffect, long treated, long contacts, double valueOfRetained, double costPerContact)
    {
        var retained = -churnEffect.Difference * treated;
        return new CampaignImpact(retained, -churnEffect.CiHigh * treated, -churnEffect.CiLow * treated,
            retained * valueOfRetained - contacts * costPerContact, churnEffect.CiLow > 0);
    }
}
