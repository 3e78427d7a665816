using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Churn.Core.Campaigns;
using Churn.Data.Campaigns;
using Churn.Server.Monitoring;
using Churn.Server.Predictions;

namespace Churn.Server.Campaigns;

/// <summary>The outcome of a campaign operation: not found, refused naming fields, or done.</summary>
public sealed record CampaignOutcome<T>(bool Found, T? Value, Dictionary<string, string[]> Errors) where T : class
{
    public static CampaignOutcome<T> Missing { get; } = new(false, null, []);

    public static CampaignOutcome<T> Invalid(FieldErrors errors) => new(true, null, errors.Errors);

    public static CampaignOutcome<T> Done(T value) => new(true, value, []);
}

/// <summary>
/// Every campaign operation, for the API and the dashboard alike: create, list, assign, hand out a contact list, read the
/// results. Each change is audited here, once, naming who and from where.
/// </summary>
public sealed class CampaignBook(StoreFactory store, AuditLog audit, AlertRaiser alerts, TimeProvider time)
{
    public async Task<CampaignOutcome<CampaignResponse>> CreateAsync(CampaignRequest request, string actor, string? address, CancellationToken ct)
    {
        var errors = CampaignValidation.Check(request);
        if (errors.Any)
        {
            return CampaignOutcome<CampaignResponse>.Invalid(errors);
        }
        var now = time.GetUtcNow();
        var campaign = new Campaign
        {
            Id = Guid.CreateVersion7(now),
            Name = request.Name!.Trim(),
            Offer = request.Offer!.Trim(),
            CostPerContact = request.CostPerContact!.Value,
            RetainedValue = request.RetainedValue!.Value,
            Eligibility = request.Eligibility!,
            ProbabilityFloor = request.Eligibility == EligibilityKinds.ProbabilityFloor ? request.ProbabilityFloor : null,
            TopN = request.Eligibility == EligibilityKinds.TopN ? request.TopN : null,
            EligibleIds = request.Eligibility == EligibilityKinds.List ? string.Join('\n', request.CustomerIds!.Distinct(StringComparer.Ordinal)) : null,
            HoldoutShare = request.HoldoutShare ?? 0.1,
            OutcomeWindowDays = request.OutcomeWindowDays ?? 90,
            StartsAt = request.StartsAt ?? now,
            EndsAt = request.EndsAt,
            Seed = request.Seed ?? RandomNumberGenerator.GetInt32(int.MaxValue),
            CreatedAt = now,
            CreatedBy = actor,
        };
        await using (var db = store.CreateDbContext())
        {
            db.Campaigns.Add(campaign);
            await db.SaveChangesAsync(ct);
        }
        var response = campaign.AsResponse();
        await audit.RecordAsync(new AuditActor(actor, address), "campaign.create", campaign.Id.ToString(), response);
        return CampaignOutcome<CampaignResponse>.Done(response);
    }

    public async Task<List<CampaignResponse>> ListAsync(CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        var campaigns = await db.Campaigns.AsNoTracking().OrderByDescending(c => c.CreatedAt).Take(1000).ToListAsync(ct);
        return [.. campaigns.Select(c => c.AsResponse())];
    }

    public async Task<CampaignResponse?> GetAsync(Guid id, CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        return (await db.Campaigns.AsNoTracking().FirstOrDefaultAsync(c => c.Id == id, ct))?.AsResponse();
    }

    public async Task<CampaignOutcome<AssignResponse>> AssignAsync(Guid id, AssignRequest request, string actor, string? address, CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        var campaign = await db.Campaigns.AsNoTracking().FirstOrDefaultAsync(c => c.Id == id, ct);
        if (campaign is null)
        {
            return CampaignOutcome<AssignResponse>.Missing;
        }
        var errors = CampaignValidation.Check(request);
        if (errors.Any)
        {
            return CampaignOutcome<AssignResponse>.Invalid(errors);
        }
        // Two requests may assign the same new customer at once; the unique index lets one win, and the other tries again
        // and finds the customer assigned. Either way the arm is the same, since it depends only on the seed and the id.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var (results, existing, fresh) = await AssignOnceAsync(campaign, request, actor, ct);
                var added = results.Where(r => r.New).ToList();
                var response = new AssignResponse(added.Count, added.Count(r => r.Arm == CampaignArms.Treated), added.Count(r => r.Arm == CampaignArms.Holdout),
                    existing, fresh - added.Count, results);
                // One audit entry per call, with the counts; the assignments themselves are the campaign's own log.
                await audit.RecordAsync(new AuditActor(actor, address), "campaign.assign", id.ToString(),
                    new { response.Assigned, response.Treated, response.Holdout, response.AlreadyAssigned, response.Ineligible });
                return CampaignOutcome<AssignResponse>.Done(response);
            }
            catch (DbUpdateException) when (attempt < 3)
            {
            }
        }
    }

    private async Task<(List<AssignedCustomer> Results, int Existing, int Fresh)> AssignOnceAsync(Campaign campaign, AssignRequest request, string actor, CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        var id = campaign.Id;
        var ids = request.Customers!.Select(c => c.CustomerId!).ToList();
        var existing = await db.CampaignAssignments.AsNoTracking().Where(a => a.CampaignId == id && ids.Contains(a.CustomerId))
            .ToDictionaryAsync(a => a.CustomerId, a => a.Arm, StringComparer.Ordinal, ct);
        var fresh = request.Customers!.Where(c => !existing.ContainsKey(c.CustomerId!)).ToList();
        var eligible = await EligibleAsync(db, campaign, fresh, ct);
        var now = time.GetUtcNow();
        var results = new List<AssignedCustomer>();
        foreach (var c in request.Customers!)
        {
            if (existing.TryGetValue(c.CustomerId!, out var arm))
            {
                results.Add(new AssignedCustomer(c.CustomerId!, arm, New: false));
            }
            else if (eligible.Contains(c.CustomerId!))
            {
                arm = HoldoutAssignment.ArmOf(campaign.Seed, c.CustomerId!, campaign.HoldoutShare);
                db.CampaignAssignments.Add(new CampaignAssignment
                {
                    CampaignId = id,
                    CustomerId = c.CustomerId!,
                    Arm = arm,
                    ChurnProbability = c.ChurnProbability!.Value,
                    Uplift = c.Uplift,
                    Segment = c.Segment,
                    AssignedAt = now,
                    AssignedBy = actor,
                });
                results.Add(new AssignedCustomer(c.CustomerId!, arm, New: true));
            }
        }
        await db.SaveChangesAsync(ct);
        return (results, existing.Count, fresh.Count);
    }

    /// <summary>The fresh customers who pass the campaign's eligibility rule.</summary>
    private static async Task<HashSet<string>> EligibleAsync(ChurnDbContext db, Campaign campaign, List<AssignCustomer> fresh, CancellationToken ct)
    {
        switch (campaign.Eligibility)
        {
            case EligibilityKinds.ProbabilityFloor:
                return [.. fresh.Where(c => c.ChurnProbability >= campaign.ProbabilityFloor).Select(c => c.CustomerId!)];
            case EligibilityKinds.List:
                var listed = new HashSet<string>(campaign.EligibleIds!.Split('\n'), StringComparer.Ordinal);
                return [.. fresh.Where(c => listed.Contains(c.CustomerId!)).Select(c => c.CustomerId!)];
            default:
                // Top-N by expected gain: the places left in the campaign go to the customers with the most to gain.
                var taken = await db.CampaignAssignments.CountAsync(a => a.CampaignId == campaign.Id, ct);
                var places = Math.Max(0, campaign.TopN!.Value - taken);
                return [.. fresh.OrderByDescending(c => (c.Uplift ?? c.ChurnProbability!.Value) * campaign.RetainedValue)
                    .ThenBy(c => c.CustomerId, StringComparer.Ordinal).Take(places).Select(c => c.CustomerId!)];
        }
    }

    /// <summary>
    /// The contact list for a budget (money, or a number of contacts), from the treated arm only; every customer on it is
    /// logged as contacted and the hand-out is audited.
    /// </summary>
    public async Task<CampaignOutcome<ContactListResponse>> ContactsAsync(Guid id, double? budget, int? contacts, string actor, string? address, CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        var campaign = await db.Campaigns.AsNoTracking().FirstOrDefaultAsync(c => c.Id == id, ct);
        if (campaign is null)
        {
            return CampaignOutcome<ContactListResponse>.Missing;
        }
        var errors = new FieldErrors();
        if (budget is null == contacts is null)
        {
            errors.Add("budget", "or contacts is required (one of them): an amount of money, or a number of contacts.");
        }
        else if (budget is { } money && (!double.IsFinite(money) || money < campaign.CostPerContact))
        {
            errors.Add("budget", $"affords no contact: one contact costs {campaign.CostPerContact.ToString(CultureInfo.InvariantCulture)}.");
        }
        else if (contacts is < 1)
        {
            errors.Add("contacts", "must be at least 1.");
        }
        if (errors.Any)
        {
            return CampaignOutcome<ContactListResponse>.Invalid(errors);
        }
        var affordable = contacts ?? (int)Math.Min(int.MaxValue, Math.Floor(budget!.Value / campaign.CostPerContact));
        // Only treated customers are contacted: contacting the holdout would destroy the measurement.
        var treated = await db.CampaignAssignments.AsNoTracking().Where(a => a.CampaignId == id && a.Arm == CampaignArms.Treated)
            .Select(a => new ContactCandidate(a.CustomerId, a.ChurnProbability, a.Uplift)).ToListAsync(ct);
        var holdout = await db.CampaignAssignments.CountAsync(a => a.CampaignId == id && a.Arm == CampaignArms.Holdout, ct);
        var list = ContactRanking.Rank(treated, campaign.RetainedValue, campaign.CostPerContact, affordable);
        var now = time.GetUtcNow();
        db.CampaignContacts.AddRange(list.Contacts.Select(c => new CampaignContact
        {
            CampaignId = id,
            CustomerId = c.CustomerId,
            Rank = c.Rank,
            ExpectedProfit = c.ExpectedProfit,
            ContactedAt = now,
            ContactedBy = actor,
        }));
        await db.SaveChangesAsync(ct);
        await audit.RecordAsync(new AuditActor(actor, address), "campaign.contacts", id.ToString(), new { budget, contacts, handedOut = list.Contacts.Count, ranking = list.Basis.ToString() });
        return CampaignOutcome<ContactListResponse>.Done(new ContactListResponse(id, list.Basis, list.Note, budget, list.Affordable,
            [.. list.Contacts.Select(c => new ContactResponse(c.Rank, c.CustomerId, c.ChurnProbability, c.Uplift, c.ExpectedProfit))],
            list.LeftOutNegativeUplift, list.LeftOutUnprofitable, holdout));
    }

    /// <summary>The contact list as CSV: rank, customer id, churn probability, uplift, expected profit.</summary>
    public static string ToCsv(ContactListResponse list)
    {
        var csv = new StringBuilder("rank,customer_id,churn_probability,uplift,expected_profit\n");
        foreach (var c in list.Contacts)
        {
            csv.Append(CultureInfo.InvariantCulture, $"{c.Rank},{Csv(c.CustomerId)},{c.ChurnProbability:0.######},{c.Uplift:0.######},{c.ExpectedProfit:0.##}\n");
        }
        return csv.ToString();
    }

    /// <summary>The campaign's results; raises the harm alert when treated customers churn more than the holdout.</summary>
    public async Task<CampaignResultsResponse?> ResultsAsync(Guid id, CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        var campaign = await db.Campaigns.AsNoTracking().FirstOrDefaultAsync(c => c.Id == id, ct);
        if (campaign is null)
        {
            return null;
        }
        var results = await CampaignOutcomes.ReadAsync(db, campaign, ct);
        if (results.Impact is { Harmful: true } impact)
        {
            var effect = results.Readout!.Effects[0];
            await alerts.RaiseAsync(AlertKinds.CampaignHarm(id), "critical",
                $"Campaign '{campaign.Name}' raises churn: treated customers churn {100 * effect.Difference:+0.0;-0.0} points more than the holdout "
                + $"(95 % interval {100 * effect.CiLow:+0.0;-0.0} to {100 * effect.CiHigh:+0.0;-0.0}); about {-impact.Retained:0} more customers lost.", ct);
        }
        return results;
    }

    private static string Csv(string value) =>
        value.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? $"\"{value.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : value;
}
