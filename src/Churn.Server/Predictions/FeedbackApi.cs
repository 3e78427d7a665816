using Churn.Data.Predictions;
using Churn.Server.Security;

namespace Churn.Server.Predictions;

/// <summary>The body of <c>POST /feedback</c>: an observed outcome for a prediction or a customer.</summary>
public sealed record FeedbackRequest(Guid? PredictionId, string? CustomerId, bool Churned, DateTimeOffset? ObservedAt);

public sealed record FeedbackResponse(long Id, Guid? PredictionId, string? CustomerId, bool Churned, DateTimeOffset ObservedAt, bool MatchedPrediction);

/// <summary>
/// <c>POST /feedback</c>: real outcomes joined to logged predictions. A prediction id is kept as given (its log entry may
/// still be in the write buffer); a customer id alone is joined to that customer's latest logged prediction.
/// </summary>
public static class FeedbackApi
{
    public static IEndpointRouteBuilder MapFeedback(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/feedback", RecordAsync)
            .Accepts<FeedbackRequest>("application/json")
            .WithTags("Predictions")
            .RequireAuthorization(Policies.Feedback)
            .WithSummary("Records whether a customer churned, by prediction id or customer id.");
        return routes;
    }

    private static async Task<Results<Created<FeedbackResponse>, ProblemHttpResult>> RecordAsync(
        HttpRequest request, StoreFactory store, TimeProvider time, IOptions<ServerOptions> options, CancellationToken ct)
    {
        using var body = await JsonBody.ReadAsync(request, options.Value.MaxJsonBodyBytes, ct);
        var errors = new FieldErrors();
        var root = body.RootElement;
        Guid? predictionId = null;
        string? customerId = null;
        bool? churned = null;
        DateTimeOffset? observedAt = null;
        if (root.ValueKind != JsonValueKind.Object)
        {
            errors.Add("$", "must be an object with predictionId or customerId, churned and observedAt.");
            return JsonBody.Invalid(errors.Errors);
        }
        foreach (var property in root.EnumerateObject())
        {
            var value = property.Value;
            switch (property.Name)
            {
                case "predictionId":
                    predictionId = errors.Optional<Guid>("predictionId", value,
                        v => v.ValueKind == JsonValueKind.String && Guid.TryParse(v.GetString(), out var id) ? id : null,
                        "must be a prediction id returned by /predict.");
                    break;
                case "customerId" when value.ValueKind == JsonValueKind.Null:
                    break;
                case "customerId":
                    customerId = value.ValueKind == JsonValueKind.String && value.GetString()!.Length is > 0 and <= NameColumns.MaxLength
                        ? value.GetString()
                        : value.ValueKind == JsonValueKind.Number ? value.GetRawText() : null;
                    if (customerId is null)
                    {
                        errors.Add("customerId", $"must be a string of 1 to {NameColumns.MaxLength} characters.");
                    }
                    break;
                case "churned":
                    if (value.ValueKind is JsonValueKind.True or JsonValueKind.False)
                    {
                        churned = value.GetBoolean();
                    }
                    else
                    {
                        errors.Add("churned", "must be true or false.");
                    }
                    break;
                case "observedAt":
                    observedAt = errors.Optional<DateTimeOffset>("observedAt", value,
                        v => v.ValueKind == JsonValueKind.String && v.TryGetDateTimeOffset(out var at) ? at.ToUniversalTime() : null,
                        "must be an ISO 8601 time such as 2026-01-31T00:00:00Z.");
                    break;
                default:
                    errors.Add(property.Name, "is not a known field; send predictionId or customerId, churned and observedAt.");
                    break;
            }
        }
        if (churned is null && !errors.Errors.ContainsKey("churned"))
        {
            errors.Add("churned", "is required.");
        }
        if (predictionId is null && customerId is null && !errors.Errors.ContainsKey("predictionId") && !errors.Errors.ContainsKey("customerId"))
        {
            errors.Add("predictionId", "or customerId is required.");
        }
        if (errors.Any)
        {
            return JsonBody.Invalid(errors.Errors);
        }

        await using var db = store.CreateDbContext();
        var matched = predictionId is { } pid && await db.PredictionLog.AnyAsync(p => p.Id == pid, ct);
        if (predictionId is null)
        {
            predictionId = await db.PredictionLog.Where(p => p.CustomerId == customerId)
                .OrderByDescending(p => p.Time).Select(p => (Guid?)p.Id).FirstOrDefaultAsync(ct);
            matched = predictionId is not null;
        }
        var entry = new FeedbackEntry
        {
            PredictionId = predictionId,
            CustomerId = customerId,
            Churned = churned!.Value,
            ObservedAt = observedAt ?? time.GetUtcNow(),
        };
        db.Feedback.Add(entry);
        await db.SaveChangesAsync(ct);
        var response = new FeedbackResponse(entry.Id, entry.PredictionId, entry.CustomerId, entry.Churned, entry.ObservedAt, matched);
        return TypedResults.Created($"/feedback/{entry.Id}", response);
    }
}
