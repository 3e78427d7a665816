using Churn.Core.Campaigns;

namespace Churn.Core.Generation;

/// <summary>How a customer responds to a retention contact (the four classic uplift groups).</summary>
public enum ResponseType
{
    /// <summary>Would churn without contact and stays if contacted: the customers a campaign is for.</summary>
    Persuadable,

    /// <summary>Stays either way: contact only costs money.</summary>
    SureThing,

    /// <summary>Leaves either way: contact only costs money.</summary>
    LostCause,

    /// <summary>Stays if left alone but is pushed to leave by contact (it reminds them the contract can end).</summary>
    SleepingDog,
}

/// <summary>A generated customer with the known truth of a campaign: their response type and churn probability with and without contact.</summary>
public sealed record CampaignCustomer(GeneratedCustomer Customer, ResponseType Type, double ChurnIfContacted)
{
    /// <summary>The churn probability without contact (the generator's own).</summary>
    public double ChurnIfLeftAlone => Customer.TrueProbability;

    /// <summary>The true uplift: the fall in churn probability that contact causes (negative for sleeping dogs).</summary>
    public double TrueUplift => ChurnIfLeftAlone - ChurnIfContacted;
}

/// <summary>
/// Adds a known, heterogeneous treatment effect to generated customers, so a campaign's whole loop (assignment, outcomes,
/// read-out, uplift model, contact list) can be checked against the truth. The customers themselves are exactly those of
/// <see cref="CustomerGenerator"/> for the same options; only the response to contact is added.
/// </summary>
/// <remarks>
/// The groups depend on what a model can see: two-year-contract customers of three years' standing or more are sleeping dogs
/// (contact raises their churn probability by <see cref="SleepingDogHarm"/>); customers at a churn probability of
/// <see cref="LostCauseFloor"/> or more are lost causes; month-to-month customers from 0.2 up to that floor are
/// persuadable (contact lowers their probability by <see cref="PersuadableGain"/>); the rest are sure things. Contact
/// changes neither lost causes nor sure things, so the customers most at risk are not the ones worth contacting.
/// </remarks>
public sealed class CampaignResponseGenerator
{
    /// <summary>Added to a sleeping dog's churn probability by contact.</summary>
    public const double SleepingDogHarm = 0.25;

    /// <summary>Taken from a persuadable customer's churn probability by contact.</summary>
    public const double PersuadableGain = 0.2;

    /// <summary>Customers at this churn probability or more leave whatever is done (unless they are sleeping dogs).</summary>
    public const double LostCauseFloor = 0.6;

    /// <summary>The arm column written by <see cref="WriteHistoryCsv"/>.</summary>
    public const string ArmColumn = "arm";

    /// <summary>The generated customers with their response to contact.</summary>
    public IEnumerable<CampaignCustomer> Customers(GeneratorOptions options) => new CustomerGenerator().Customers(options).Select(Respond);

    /// <summary>The response group and contacted churn probability of one generated customer.</summary>
    public static CampaignCustomer Respond(GeneratedCustomer c)
    {
        var p = c.TrueProbability;
        if (c.Contract == ContractTerm.TwoYear && c.TenureMonths >= 36)
        {
            return new CampaignCustomer(c, ResponseType.SleepingDog, Math.Min(0.99, p + SleepingDogHarm));
        }
        if (p >= LostCauseFloor)
        {
            return new CampaignCustomer(c, ResponseType.LostCause, p);
        }
        if (c.Contract == ContractTerm.MonthToMonth && p >= 0.2)
        {
            return new CampaignCustomer(c, ResponseType.Persuadable, p - PersuadableGain);
        }
        return new CampaignCustomer(c, ResponseType.SureThing, p);
    }

    /// <summary>
    /// Whether the customer churns within the outcome window, contacted or not. The same uniform draw (seeded by
    /// <paramref name="outcomeSeed"/> and the customer id) decides both cases, so contacting a customer changes their
    /// outcome only through the truth above, and realised profits of two contact lists compare without extra noise.
    /// </summary>
    public static bool Churns(CampaignCustomer customer, bool contacted, long outcomeSeed) =>
        HoldoutAssignment.Draw(outcomeSeed, customer.Customer.CustomerId) < (contacted ? customer.ChurnIfContacted : customer.ChurnIfLeftAlone);

    /// <summary>
    /// Writes a finished randomised campaign as CSV: the generator's columns with <c>churned</c> drawn from the arm,
    /// and an <see cref="ArmColumn"/> column (<c>treated</c> or <c>holdout</c>, holdout with probability
    /// <paramref name="holdoutShare"/>). It is the history an uplift model is trained from.
    /// </summary>
    public void WriteHistoryCsv(GeneratorOptions options, double holdoutShare, TextWriter writer)
    {
        CsvText.WriteRow(writer, [.. CustomerGenerator.Header, ArmColumn]);
        foreach (var c in Customers(options))
        {
            var arm = HoldoutAssignment.ArmOf(options.Seed, c.Customer.CustomerId, holdoutShare);
            var cells = CustomerGenerator.ToCells(c.Customer);
            cells[^1] = Churns(c, arm == CampaignArms.Treated, options.Seed + 1L) ? "Yes" : "No";
            CsvText.WriteRow(writer, [.. cells, arm]);
        }
    }
}
