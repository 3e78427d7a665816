using Churn.Data.Predictions;
using Churn.Data.Survival;
using Churn.Server.Security;

namespace Churn.Server.Survival;

/// <summary><c>GET /monitoring/survival</c>: the served survival model's realised C-index from feedback with observed dates.</summary>
public static class SurvivalMonitoringApi
{
    public static IEndpointRouteBuilder MapSurvivalMonitoring(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/monitoring/survival", GetAsync).WithTags("Monitoring").RequireAuthorization(Policies.Read)
            .WithSummary("The survival champion's realised C-index over predictions made from ?from to ?to (default: all) whose outcome was reported through POST /feedback; the time to churn runs from the prediction to the feedback's observedAt.");
        return routes;
    }

    private static async Task<Results<Ok<RealisedSurvivalResponse>, ProblemHttpResult>> GetAsync(
        DateTimeOffset? from, DateTimeOffset? to, SurvivalHost host, StoreFactory store, CancellationToken ct)
    {
        if (from is { } start && to is { } end && start > end)
        {
            return Errors.JsonBody.Invalid(new() { ["from"] = [$"is after to ({end:O})."] }, StatusCodes.Status400BadRequest);
        }
        if (host.Current is not { } serving)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No survival model is served.",
                detail: "Promote one with `churn survival train --promote` or `churn models promote`; realised survival performance needs its ranking.");
        }
        IReadOnlyList<LabelledPrediction> labelled;
        await using (var db = store.CreateDbContext())
        {
            labelled = await LabelledFeedback.LatestAsync(db, null, from, to, ct);
        }
        // Scoring the logged inputs is CPU work; it runs off the request thread.
        var realised = await Task.Run(() => RealisedSurvival.Evaluate(serving.Model, labelled), ct);
        return TypedResults.Ok(new RealisedSurvivalResponse(serving.Name, serving.Version, from, to, realised.Labelled, realised.Churned, realised.Skipped,
            realised.CIndex is { } c ? Math.Round(c, 6) : null));
    }
}

/// <summary>The answer of <c>GET /monitoring/survival</c>.</summary>
/// <param name="ModelName">The survival model that ranked the customers.</param>
/// <param name="ModelVersion">Its version.</param>
/// <param name="From">Start of the prediction window (null: unbounded).</param>
/// <param name="To">End of the prediction window (null: unbounded).</param>
/// <param name="Labelled">Predictions with a reported outcome evaluated.</param>
/// <param name="Churned">How many of those customers churned.</param>
/// <param name="Skipped">Outcomes dated before their prediction, left out.</param>
/// <param name="CIndex">Harrell's C-index; null when no pair of customers is comparable.</param>
public sealed record RealisedSurvivalResponse(string ModelName, int ModelVersion, DateTimeOffset? From, DateTimeOffset? To, int Labelled, int Churned, int Skipped, double? CIndex);
