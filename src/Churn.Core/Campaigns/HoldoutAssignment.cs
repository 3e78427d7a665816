using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Churn.Core.Campaigns;

/// <summary>The arms of a retention campaign.</summary>
public static class CampaignArms
{
    /// <summary>Customers who get the offer.</summary>
    public const string Treated = "treated";

    /// <summary>Customers held out at random, to measure what the offer changed.</summary>
    public const string Holdout = "holdout";
}

/// <summary>
/// Random, sticky assignment to treated or holdout: a customer's arm is a pure function of the campaign's seed and the
/// customer id (SHA-256 of both, read as a uniform number in [0, 1)), so the same customer always lands in the same
/// arm of that campaign, on every replica and after every restart, while arms are independent across campaigns.
/// </summary>
public static class HoldoutAssignment
{
    /// <summary>The customer's uniform draw in [0, 1) for this campaign.</summary>
    public static double Draw(long campaignSeed, string customerId)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes($"{campaignSeed}:{customerId}"), hash);
        // The top 53 bits fill a double's mantissa exactly, so every draw is equally likely.
        return (BinaryPrimitives.ReadUInt64BigEndian(hash) >> 11) / (double)(1UL << 53);
    }

    /// <summary>The customer's arm: <see cref="CampaignArms.Holdout"/> when the draw falls below the holdout share.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The share is outside (0, 1).</exception>
    public static string ArmOf(long campaignSeed, string customerId, double holdoutShare)
    {
        if (holdoutShare is <= 0 or >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(holdoutShare), holdoutShare, "The holdout share must lie between 0 and 1.");
        }
        return Draw(campaignSeed, customerId) < holdoutShare ? CampaignArms.Holdout : CampaignArms.Treated;
    }
}

/// <summary>A customer who may be contacted: churn probability and, when an uplift model scored them, expected uplift.</summary>
/// <param name="CustomerId">The customer's id.</param>
/// <param name="ChurnProbability">Calibrated probability of churning without contact, in [0, 1].</param>
/// <param name="Uplift">Expected fall in churn probability if contacted (positive helps, negative pushes away); null when unknown.</param>
public sealed record ContactCandidate(string CustomerId, double ChurnProbability, double? Uplift);

/// <summary>One customer on a contact list, with the expected profit of contacting them (money).</summary>
public sealed record RankedContact(int Rank, string CustomerId, double ChurnProbability, double? Uplift, double ExpectedProfit);

/// <summary>How a contact list was ranked.</summary>
public enum ContactRankingBasis
{
    /// <summary>Expected profit = uplift × value of a retained customer − cost per contact; negative uplift left out.</summary>
    Uplift,

    /// <summary>No uplift estimates: churn probability × value of a retained customer, which assumes contact always works.</summary>
    ChurnProbability,
}

/// <summary>A contact list for a budget, and what was left out of it and why.</summary>
public sealed record ContactList(ContactRankingBasis Basis, string Note, int Affordable, IReadOnlyList<RankedContact> Contacts, int LeftOutNegativeUplift, int LeftOutUnprofitable);

/// <summary>The policy that turns candidates and a budget into a contact list.</summary>
public static class ContactRanking
{
    /// <summary>
    /// Ranks by expected profit and takes as many as the budget affords. With uplift for every candidate the profit is
    /// uplift × value − cost and customers with negative uplift (whom contact would push away) or negative profit are
    /// left out; otherwise it is churn probability × value − cost, which says who is at risk, not who can be saved.
    /// </summary>
    /// <param name="candidates">Eligible, treated customers.</param>
    /// <param name="valueOfRetained">Value of a retained customer (money, positive).</param>
    /// <param name="costPerContact">Cost of one contact (money, positive).</param>
    /// <param name="maxContacts">Contacts the budget affords (at least 1).</param>
    /// <exception cref="ArgumentOutOfRangeException">A money figure is not positive, or <paramref name="maxContacts"/> is below 1.</exception>
    public static ContactList Rank(IReadOnlyList<ContactCandidate> candidates, double valueOfRetained, double costPerContact, int maxContacts)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(valueOfRetained);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(costPerContact);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxContacts, 1);
        var byUplift = candidates.Count > 0 && candidates.All(c => c.Uplift is not null);
        var negative = 0;
        var unprofitable = 0;
        var scored = new List<(ContactCandidate Candidate, double Profit)>();
        foreach (var c in candidates)
        {
            if (byUplift && c.Uplift < 0)
            {
                negative++;
                continue;
            }
            var profit = (byUplift ? c.Uplift!.Value : c.ChurnProbability) * valueOfRetained - costPerContact;
            if (profit <= 0)
            {
                unprofitable++;
                continue;
            }
            scored.Add((c, profit));
        }
        var list = scored.OrderByDescending(s => s.Profit).ThenBy(s => s.Candidate.CustomerId, StringComparer.Ordinal).Take(maxContacts)
            .Select((s, i) => new RankedContact(i + 1, s.Candidate.CustomerId, s.Candidate.ChurnProbability, s.Candidate.Uplift, s.Profit)).ToList();
        var note = byUplift
            ? "Ranked by expected profit = uplift × value of a retained customer − cost per contact; customers whom contact would push away are left out."
            : "No uplift estimates for these customers: ranked by churn probability × value of a retained customer − cost, which assumes contact always works. Train an uplift model from this campaign's results to rank by who can be saved.";
        return new ContactList(byUplift ? ContactRankingBasis.Uplift : ContactRankingBasis.ChurnProbability, note, maxContacts, list, negative, unprofitable);
    }
}
