namespace Churn.Data.Campaigns;

/// <summary>A retention campaign: its offer, its economics, who is eligible, its random holdout and its outcome window.</summary>
public sealed class Campaign
{
    public Guid Id { get; set; }
    public required string Name { get; set; }
    public required string Offer { get; set; }

    /// <summary>Cost of contacting one customer (money).</summary>
    public double CostPerContact { get; set; }

    /// <summary>Value of a customer who stays because of the campaign (money).</summary>
    public double RetainedValue { get; set; }

    /// <summary>How customers become eligible: <c>probability-floor</c>, <c>top-n</c> or <c>list</c>.</summary>
    public required string Eligibility { get; set; }

    public double? ProbabilityFloor { get; set; }
    public int? TopN { get; set; }

    /// <summary>The uploaded list of eligible customer ids, one per line, for <c>list</c> eligibility.</summary>
    public string? EligibleIds { get; set; }

    public double HoldoutShare { get; set; }
    public int OutcomeWindowDays { get; set; }
    public DateTimeOffset StartsAt { get; set; }
    public DateTimeOffset? EndsAt { get; set; }

    /// <summary>The seed of the sticky random assignment, fixed when the campaign is created.</summary>
    public long Seed { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
    public required string CreatedBy { get; set; }
}

/// <summary>
/// A row about one customer of one campaign (an assignment, a contact): it belongs to its <see cref="Campaign"/>, which
/// cannot be deleted while such rows refer to it.
/// </summary>
public abstract class CampaignCustomerRecord
{
    public long Id { get; set; }
    public Guid CampaignId { get; set; }
    public required string CustomerId { get; set; }
}

/// <summary>One customer's assignment to an arm of a campaign; a customer has at most one per campaign.</summary>
public sealed class CampaignAssignment : CampaignCustomerRecord
{
    /// <summary><c>treated</c> or <c>holdout</c>.</summary>
    public required string Arm { get; set; }

    public double ChurnProbability { get; set; }

    /// <summary>Expected fall in churn probability if contacted, when an uplift model scored the customer.</summary>
    public double? Uplift { get; set; }

    /// <summary>A segment label for the read-out (a region or a plan), when given.</summary>
    public string? Segment { get; set; }

    public DateTimeOffset AssignedAt { get; set; }
    public required string AssignedBy { get; set; }
}

/// <summary>A customer handed out on a campaign's contact list, with the rank and expected profit they had then.</summary>
public sealed class CampaignContact : CampaignCustomerRecord
{
    public int Rank { get; set; }
    public double ExpectedProfit { get; set; }
    public DateTimeOffset ContactedAt { get; set; }
    public required string ContactedBy { get; set; }
}
