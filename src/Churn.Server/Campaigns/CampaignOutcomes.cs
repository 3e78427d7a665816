using Churn.Core.Campaigns;
using Churn.Data.Campaigns;

namespace Churn.Server.Campaigns;

/// <summary>
/// Joins a campaign's assignments to the feedback that came back for those customers inside the outcome window
/// (from assignment to assignment + window): churned if any feedback there says so, stayed if feedback says not,
/// pending without feedback. The read-out compares churn in the treated arm against the holdout.
/// </summary>
public static class CampaignOutcomes
{
    public static async Task<CampaignResultsResponse> ReadAsync(ChurnDbContext db, Campaign campaign, CancellationToken ct)
    {
        var assignments = await db.CampaignAssignments.AsNoTracking().Where(a => a.CampaignId == campaign.Id).ToListAsync(ct);
        var ids = assignments.Select(a => a.CustomerId).ToList();
        var feedback = (await db.Feedback.AsNoTracking().Where(f => f.CustomerId != null && ids.Contains(f.CustomerId))
            .Select(f => new { f.CustomerId, f.Churned, f.ObservedAt }).ToListAsync(ct))
            .ToLookup(f => f.CustomerId!, StringComparer.Ordinal);
        var window = TimeSpan.FromDays(campaign.OutcomeWindowDays);
        var units = new List<ArmOutcome>();
        var scored = new List<(double Uplift, bool Treated, bool Stayed)>();
        foreach (var a in assignments)
        {
            var inWindow = feedback[a.CustomerId].Where(f => f.ObservedAt >= a.AssignedAt && f.ObservedAt <= a.AssignedAt + window).ToList();
            if (inWindow.Count > 0)
            {
                var churned = inWindow.Any(f => f.Churned);
                units.Add(new ArmOutcome(a.Arm, churned, a.Segment));
                if (a.Uplift is { } uplift)
                {
                    scored.Add((uplift, a.Arm == CampaignArms.Treated, !churned));
                }
            }
        }
        var arms = units.Select(u => u.Arm).ToHashSet(StringComparer.Ordinal);
        if (!arms.Contains(CampaignArms.Treated) || !arms.Contains(CampaignArms.Holdout))
        {
            var missing = arms.Contains(CampaignArms.Treated) ? CampaignArms.Holdout : CampaignArms.Treated;
            return new CampaignResultsResponse(campaign.Id, assignments.Count, units.Count, assignments.Count - units.Count, null, null,
                $"No outcome yet in the {missing} arm: results need feedback for customers of both arms inside the {campaign.OutcomeWindowDays}-day window.");
        }
        var readout = ExperimentReadout.Compute(units, CampaignArms.Holdout, new Dictionary<string, double>
        {
            [CampaignArms.Treated] = 1 - campaign.HoldoutShare,
            [CampaignArms.Holdout] = campaign.HoldoutShare,
        });
        var treated = readout.Arms.Single(a => a.Name == CampaignArms.Treated).N;
        var contacted = await db.CampaignContacts.Where(c => c.CampaignId == campaign.Id).Select(c => c.CustomerId).Distinct().CountAsync(ct);
        var impact = CampaignImpact.Of(readout.Effects.Single(), treated, contacted, campaign.RetainedValue, campaign.CostPerContact);
        var note = impact.Harmful
            ? "Treated customers churn more than the holdout, and the interval excludes zero: the campaign pushes customers away."
            : readout.SampleRatioP < 0.001
                ? "The arm sizes do not match the planned holdout share (sample-ratio mismatch): check the assignment before trusting the effect."
                : "Effect = treated churn rate − holdout churn rate; negative means the campaign keeps customers.";
        // Uplift scores are the expected fall in churn if contacted, so a good ranking puts first the customers whom contact
        // keeps: the outcome it is judged on is staying.
        var check = scored.Count >= MinScoredForCheck
            ? UpliftMetrics.Check([.. scored.Select(s => s.Uplift)], [.. scored.Select(s => s.Treated)], [.. scored.Select(s => s.Stayed)],
                CheckResamples, (int)(campaign.Seed % int.MaxValue))
            : null;
        return new CampaignResultsResponse(campaign.Id, assignments.Count, units.Count, assignments.Count - units.Count, readout, impact, note, check);
    }

    /// <summary>Customers with an uplift score and an outcome needed before their ranking is judged.</summary>
    public const int MinScoredForCheck = 50;

    private const int CheckResamples = 200;
}
