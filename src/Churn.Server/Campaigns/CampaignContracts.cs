using Churn.Core.Campaigns;
using Churn.Data.Campaigns;
using Churn.Server.Predictions;

namespace Churn.Server.Campaigns;

/// <summary>
/// The body of <c>POST /campaigns</c>. Money is in the operator's currency. <see cref="Eligibility"/> is
/// <c>probability-floor</c> (with <see cref="ProbabilityFloor"/>), <c>top-n</c> (with <see cref="TopN"/>, by expected gain)
/// or <c>list</c> (with <see cref="CustomerIds"/>).
/// </summary>
public sealed record CampaignRequest(
    string? Name,
    string? Offer,
    double? CostPerContact,
    double? RetainedValue,
    string? Eligibility,
    double? ProbabilityFloor,
    int? TopN,
    IReadOnlyList<string>? CustomerIds,
    double? HoldoutShare,
    int? OutcomeWindowDays,
    DateTimeOffset? StartsAt,
    DateTimeOffset? EndsAt,
    long? Seed);

public sealed record CampaignResponse(
    Guid Id, string Name, string Offer, double CostPerContact, double RetainedValue, string Eligibility, double? ProbabilityFloor, int? TopN,
    int? ListedCustomers, double HoldoutShare, int OutcomeWindowDays, DateTimeOffset StartsAt, DateTimeOffset? EndsAt, long Seed,
    DateTimeOffset CreatedAt, string CreatedBy);

/// <summary>
/// One customer to assign: id, calibrated churn probability, and optionally uplift (from an uplift model) and a segment.
/// Instead of the probability the customer's <see cref="Features"/> (<c>{"feature": value}</c>, every feature of the serving
/// model) may be sent, and the serving model scores them.
/// </summary>
public sealed record AssignCustomer(string? CustomerId, double? ChurnProbability, double? Uplift, string? Segment, System.Text.Json.JsonElement? Features = null);

/// <summary>The body of <c>POST /campaigns/{id}/assign</c>.</summary>
public sealed record AssignRequest(IReadOnlyList<AssignCustomer>? Customers);

public sealed record AssignedCustomer(string CustomerId, string Arm, bool New);

/// <summary>What an assignment call did: customers assigned now, already assigned before (arm unchanged), and not eligible.</summary>
public sealed record AssignResponse(int Assigned, int Treated, int Holdout, int AlreadyAssigned, int Ineligible, IReadOnlyList<AssignedCustomer> Customers);

public sealed record ContactResponse(int Rank, string CustomerId, double ChurnProbability, double? Uplift, double ExpectedProfit);

/// <summary>A campaign's contact list for a budget, how it was ranked, and who was left out.</summary>
public sealed record ContactListResponse(
    Guid CampaignId, ContactRankingBasis Ranking, string Note, double? Budget, int Affordable, IReadOnlyList<ContactResponse> Contacts,
    int LeftOutNegativeUplift, int LeftOutUnprofitable, int Holdout);

/// <summary>
/// A campaign's results from feedback inside the outcome window: the read-out of churn by arm (overall and per segment),
/// the impact (customers retained, profit), and whether treated customers churn more than the holdout. <see cref="Uplift"/>
/// judges the uplift scores the customers were assigned with on this campaign's own randomised outcomes (the wanted outcome
/// being that the customer stays): its Qini coefficient, uplift at 30 % and Qini curve; null without enough scored customers.
/// </summary>
public sealed record CampaignResultsResponse(
    Guid CampaignId, int Assigned, int WithOutcome, int Pending, ExperimentReadout? Readout, CampaignImpact? Impact, string Note,
    UpliftCheck? Uplift = null);

internal static class CampaignMapping
{
    public static CampaignResponse AsResponse(this Campaign c) => new(c.Id, c.Name, c.Offer, c.CostPerContact, c.RetainedValue, c.Eligibility,
        c.ProbabilityFloor, c.TopN, c.EligibleIds?.Split('\n').Length, c.HoldoutShare, c.OutcomeWindowDays, c.StartsAt, c.EndsAt, c.Seed, c.CreatedAt, c.CreatedBy);
}

/// <summary>How customers become eligible for a campaign.</summary>
public static class EligibilityKinds
{
    public const string ProbabilityFloor = "probability-floor";
    public const string TopN = "top-n";
    public const string List = "list";

    public static readonly IReadOnlyList<string> All = [ProbabilityFloor, TopN, List];
}

/// <summary>Checks a campaign request field by field; every problem names its field.</summary>
internal static class CampaignValidation
{
    public const int MaxListedCustomers = 100_000;
    public const int MaxAssignPerRequest = 10_000;

    public static FieldErrors Check(CampaignRequest r)
    {
        var errors = new FieldErrors();
        if (string.IsNullOrWhiteSpace(r.Name) || r.Name.Length > NameColumns.MaxLength)
        {
            errors.Add("name", $"is required: 1 to {NameColumns.MaxLength} characters.");
        }
        if (string.IsNullOrWhiteSpace(r.Offer) || r.Offer.Length > 1000)
        {
            errors.Add("offer", "is required: 1 to 1000 characters describing what customers are offered.");
        }
        if (r.CostPerContact is not (> 0 and < 1e9))
        {
            errors.Add("costPerContact", "is required: a positive amount of money per contact.");
        }
        if (r.RetainedValue is not (> 0 and < 1e12))
        {
            errors.Add("retainedValue", "is required: the positive value of a customer who stays.");
        }
        switch (r.Eligibility)
        {
            case EligibilityKinds.ProbabilityFloor when r.ProbabilityFloor is not (>= 0 and <= 1):
                errors.Add("probabilityFloor", "is required with probability-floor eligibility: a churn probability in [0, 1].");
                break;
            case EligibilityKinds.TopN when r.TopN is not (>= 1 and <= 10_000_000):
                errors.Add("topN", "is required with top-n eligibility: a whole number of customers, at least 1.");
                break;
            case EligibilityKinds.List when r.CustomerIds is not { Count: > 0 and <= MaxListedCustomers }:
                errors.Add("customerIds", $"is required with list eligibility: 1 to {MaxListedCustomers} customer ids.");
                break;
            case EligibilityKinds.List when r.CustomerIds.Any(id => string.IsNullOrWhiteSpace(id) || id.Length > NameColumns.MaxLength || id.Contains('\n')):
                errors.Add("customerIds", $"must hold ids of 1 to {NameColumns.MaxLength} characters, without line breaks.");
                break;
            case EligibilityKinds.ProbabilityFloor or EligibilityKinds.TopN or EligibilityKinds.List:
                break;
            default:
                errors.Add("eligibility", $"must be one of {string.Join(", ", EligibilityKinds.All)}.");
                break;
        }
        if (r.HoldoutShare is { } share && share is not (>= 0.01 and <= 0.9))
        {
            errors.Add("holdoutShare", "must lie between 0.01 and 0.9 (the default is 0.1).");
        }
        if (r.OutcomeWindowDays is { } days && days is not (>= 1 and <= 3650))
        {
            errors.Add("outcomeWindowDays", "must be a whole number of days from 1 to 3650 (the default is 90).");
        }
        if (r.EndsAt is { } end && r.StartsAt is { } start && end <= start)
        {
            errors.Add("endsAt", "must be after startsAt.");
        }
        return errors;
    }

    public static FieldErrors Check(AssignRequest r)
    {
        var errors = new FieldErrors();
        if (r.Customers is not { Count: > 0 and <= MaxAssignPerRequest })
        {
            errors.Add("customers", $"is required: 1 to {MaxAssignPerRequest} customers, each with customerId and churnProbability.");
            return errors;
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < r.Customers.Count; i++)
        {
            var c = r.Customers[i];
            if (c is null)
            {
                errors.Add($"customers[{i}]", "must be an object.");
                continue;
            }
            if (string.IsNullOrWhiteSpace(c.CustomerId) || c.CustomerId.Length > NameColumns.MaxLength)
            {
                errors.Add($"customers[{i}].customerId", $"is required: 1 to {NameColumns.MaxLength} characters.");
            }
            else if (!seen.Add(c.CustomerId))
            {
                errors.Add($"customers[{i}].customerId", $"repeats '{c.CustomerId}' from earlier in this request.");
            }
            if (c.ChurnProbability is not (>= 0 and <= 1))
            {
                errors.Add($"customers[{i}].churnProbability", "is required (or features to score): a calibrated churn probability in [0, 1].");
            }
            if (c.Uplift is { } u && u is not (>= -1 and <= 1))
            {
                errors.Add($"customers[{i}].uplift", "must lie in [-1, 1]: the expected fall in churn probability if contacted.");
            }
            if (c.Segment is { Length: > NameColumns.MaxLength })
            {
                errors.Add($"customers[{i}].segment", $"must be at most {NameColumns.MaxLength} characters.");
            }
        }
        return errors;
    }
}
