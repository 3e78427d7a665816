using System.Text;
using Churn.Core.Data;
using Churn.Server.Models;
using Churn.Server.Predictions;
using Churn.Server.Security;

namespace Churn.Server.Campaigns;

/// <summary>
/// <c>/campaigns</c>: retention campaigns with a random holdout. Analysts and admins create campaigns and assign
/// customers; every role that reads may list them, fetch the contact list and read the results.
/// </summary>
public static class CampaignsApi
{
    public static IHostApplicationBuilder AddCampaigns(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<CampaignBook>();
        builder.Services.AddSingleton<CampaignWatch>();
        builder.Services.AddHostedService<CampaignWatchJob>();
        return builder;
    }

    public static IEndpointRouteBuilder MapCampaigns(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/campaigns").WithTags("Campaigns").RequireAuthorization(Policies.Read);
        group.MapPost("/", CreateAsync).RequireAuthorization(Policies.Campaigns)
            .WithSummary("Creates a campaign: offer, cost per contact, value of a retained customer, eligibility, holdout share, outcome window.");
        group.MapGet("/", async (CampaignBook book, CancellationToken ct) => TypedResults.Ok(await book.ListAsync(ct)))
            .WithSummary("Campaigns, newest first.");
        group.MapGet("/{id:guid}", GetAsync).WithSummary("One campaign.");
        group.MapPost("/{id:guid}/assign", AssignAsync).RequireAuthorization(Policies.Campaigns)
            .WithSummary("Assigns eligible customers to treated or holdout: random, seeded per campaign, sticky per customer id.");
        group.MapGet("/{id:guid}/contacts", ContactsAsync)
            .WithSummary("The contact list for a budget (?budget= money, or ?contacts= a count; ?format=csv for CSV), ranked by expected profit; logged.");
        group.MapGet("/{id:guid}/results", ResultsAsync)
            .WithSummary("Churn by arm from feedback inside the outcome window, the effect with its 95 % interval, sample-ratio test, impact; alerts on harm.");
        return routes;
    }

    private static async Task<Results<Created<CampaignResponse>, ProblemHttpResult>> CreateAsync(
        CampaignRequest request, CampaignBook book, HttpContext context, CancellationToken ct)
    {
        var outcome = await book.CreateAsync(request, context.User.KeyName(), Address(context), ct);
        return outcome.Value is { } created ? TypedResults.Created($"/campaigns/{created.Id}", created) : JsonBody.Invalid(outcome.Errors);
    }

    private static async Task<Results<Ok<CampaignResponse>, NotFound>> GetAsync(Guid id, CampaignBook book, CancellationToken ct) =>
        await book.GetAsync(id, ct) is { } campaign ? TypedResults.Ok(campaign) : TypedResults.NotFound();

    private static async Task<Results<Ok<AssignResponse>, NotFound, ProblemHttpResult>> AssignAsync(
        Guid id, AssignRequest request, CampaignBook book, ModelHost host, Predictor predictor, HttpContext context, CancellationToken ct)
    {
        if (request.Customers is { } customers && customers.Any(c => c is { Features: not null, ChurnProbability: null }))
        {
            if (await book.GetAsync(id, ct) is null)
            {
                return TypedResults.NotFound();
            }
            var errors = new FieldErrors();
            request = new AssignRequest(ScoreFeatures(customers, host.Require(), predictor, errors));
            if (errors.Any)
            {
                return JsonBody.Invalid(errors.Errors);
            }
        }
        var outcome = await book.AssignAsync(id, request, context.User.KeyName(), Address(context), ct);
        return !outcome.Found ? TypedResults.NotFound() : outcome.Value is { } done ? TypedResults.Ok(done) : JsonBody.Invalid(outcome.Errors);
    }

    private static async Task<Results<Ok<ContactListResponse>, FileContentHttpResult, NotFound, ProblemHttpResult>> ContactsAsync(
        Guid id, double? budget, int? contacts, string? format, CampaignBook book, HttpContext context, CancellationToken ct)
    {
        if (format is not (null or "json" or "csv"))
        {
            return await book.GetAsync(id, ct) is null ? TypedResults.NotFound() : JsonBody.Invalid(new() { ["format"] = ["must be json or csv."] });
        }
        var outcome = await book.ContactsAsync(id, budget, contacts, context.User.KeyName(), Address(context), ct);
        if (!outcome.Found)
        {
            return TypedResults.NotFound();
        }
        if (outcome.Value is not { } list)
        {
            return JsonBody.Invalid(outcome.Errors);
        }
        if (format == "csv")
        {
            context.Response.Headers["X-Churn-Ranking"] = list.Ranking.ToString();
            return TypedResults.File(Encoding.UTF8.GetBytes(CampaignBook.ToCsv(list)), "text/csv", $"campaign-{id}-contacts.csv");
        }
        return TypedResults.Ok(list);
    }

    private static async Task<Results<Ok<CampaignResultsResponse>, NotFound>> ResultsAsync(Guid id, CampaignBook book, CancellationToken ct) =>
        await book.ResultsAsync(id, ct) is { } results ? TypedResults.Ok(results) : TypedResults.NotFound();

    /// <summary>
    /// Gives customers sent with features but no churn probability the serving model's probability (a logged prediction,
    /// so feedback joins it like any other). Every customer's features are read first and nothing is scored while any is
    /// refused.
    /// </summary>
    private static List<AssignCustomer> ScoreFeatures(IReadOnlyList<AssignCustomer> customers, ServingModel model, Predictor predictor, FieldErrors errors)
    {
        var inputs = new FeatureValue[]?[customers.Count];
        for (var i = 0; i < customers.Count; i++)
        {
            if (customers[i] is { Features: { } features, ChurnProbability: null })
            {
                inputs[i] = FeatureInput.ReadFeatures(features, $"customers[{i}].features", model.Schema, errors);
            }
        }
        if (errors.Any)
        {
            return [.. customers];
        }
        return [.. customers.Select((c, i) => inputs[i] is { } values
            ? c with { ChurnProbability = predictor.Predict(model, new CustomerInput(c.CustomerId, values, null)).ChurnProbability }
            : c)];
    }

    private static string? Address(HttpContext context) => context.Connection.RemoteIpAddress?.ToString();
}
