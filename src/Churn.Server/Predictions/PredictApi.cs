using Churn.Server.Health;
using Churn.Server.Models;
using Churn.Server.Security;
using Churn.Server.Survival;

namespace Churn.Server.Predictions;

/// <summary><c>POST /predict</c> and <c>POST /predict/batch</c>.</summary>
public static class PredictApi
{
    public static IEndpointRouteBuilder MapPredictions(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/predict").WithTags("Predictions").RequireAuthorization(Policies.Predict);
        group.MapPost("/", PredictAsync)
            .Accepts<PredictRequest>("application/json")
            .WithName("Predict")
            .WithSummary("Scores one customer: calibrated churn probability, decision, risk tier, reasons (exact SHAP values with their base value; ?explain=all for every feature) and value at risk.");
        group.MapPost("/batch", PredictBatchAsync)
            .WithBatchGate()
            .Accepts<BatchPredictRequest>("application/json")
            .WithName("PredictBatch")
            .WithSummary("Scores up to api.max_batch_size customers with one model version (?explain=all: every feature's contribution).");
        return routes;
    }

    private static async Task<Results<Ok<PredictionResponse>, ProblemHttpResult>> PredictAsync(
        HttpRequest request, ModelHost host, Predictor predictor, SurvivalHost survival, RuntimeSettings settings, IOptions<ServerOptions> options, CancellationToken ct)
    {
        using var body = await JsonBody.ReadAsync(request, options.Value.MaxJsonBodyBytes, ct);
        var (model, errors, reasons) = Scoring(request, host, settings);
        var input = FeatureInput.ReadCustomer(body.RootElement, "", model.Schema, errors);
        if (input is not null && !errors.Any)
        {
            survival.Check(model.Schema, [input], _ => "features", errors);
        }
        if (errors.Any || input is null)
        {
            return JsonBody.Invalid(errors.Errors);
        }
        var prediction = predictor.Predict(model, input, reasons, record: !RequestWarmUp.IsWarmUp(request.HttpContext.User)) with { Survival = survival.Forecast(model.Schema, [input])?[0] };
        return TypedResults.Ok(errors.Ignored.Count == 0 ? prediction : prediction with { IgnoredFields = errors.Ignored });
    }

    private static async Task<Results<Ok<BatchPredictionResponse>, ProblemHttpResult>> PredictBatchAsync(
        HttpRequest request, ModelHost host, Predictor predictor, SurvivalHost survival, RuntimeSettings settings, IOptions<ServerOptions> options, CancellationToken ct)
    {
        using var body = await JsonBody.ReadAsync(request, options.Value.MaxJsonBodyBytes, ct);
        var (model, errors, reasons) = Scoring(request, host, settings);
        var root = body.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("customers", out var customers))
        {
            errors.Add("customers", "is required: send {\"customers\": [ ... ]}.");
            return JsonBody.Invalid(errors.Errors);
        }
        foreach (var property in root.EnumerateObject().Where(p => p.Name != "customers"))
        {
            errors.Unknown(property.Name, "is not a known field; send customers.");
        }
        if (customers.ValueKind != JsonValueKind.Array)
        {
            errors.Add("customers", "must be an array of customers.");
            return JsonBody.Invalid(errors.Errors);
        }
        var count = customers.GetArrayLength();
        if (JsonBody.BatchOutOfRange(count, settings.Api.MaxBatchSize, "customers", "customer", $"holds {count} customers", errors) is { } outOfRange)
        {
            return outOfRange;
        }
        var inputs = new List<CustomerInput>(count);
        var i = 0;
        foreach (var item in customers.EnumerateArray())
        {
            if (FeatureInput.ReadCustomer(item, $"customers[{i}]", model.Schema, errors) is { } input)
            {
                inputs.Add(input);
            }
            i++;
        }
        if (!errors.Any)
        {
            survival.Check(model.Schema, inputs, c => $"customers[{c}].features", errors);
        }
        if (errors.Any)
        {
            return JsonBody.Invalid(errors.Errors);
        }
        var outlooks = survival.Forecast(model.Schema, inputs);
        var record = !RequestWarmUp.IsWarmUp(request.HttpContext.User);
        var predictions = predictor.Predict(model, inputs, reasons, record);
        return TypedResults.Ok(new BatchPredictionResponse(outlooks is null ? predictions : [.. predictions.Select((p, i) => p with { Survival = outlooks[i] })],
            errors.Ignored.Count == 0 ? null : errors.Ignored));
    }

    /// <summary>
    /// What both endpoints take from a request once its body is read: the serving model, the field errors (under the
    /// <c>api.unknown_fields</c> policy) and how many reasons <c>?explain</c> asks for.
    /// </summary>
    private static (ServingModel Model, FieldErrors Errors, int Reasons) Scoring(HttpRequest request, ModelHost host, RuntimeSettings settings)
    {
        var model = host.Require();
        var errors = new FieldErrors(settings.Api.IgnoresUnknownFields());
        return (model, errors, Reasons(request, errors));
    }

    /// <summary>How many reasons the <c>explain</c> query asks for: absent for the default top ones, <c>all</c> for every feature.</summary>
    private static int Reasons(HttpRequest request, FieldErrors errors)
    {
        if (!request.Query.TryGetValue("explain", out var explain))
        {
            return Predictor.DefaultReasons;
        }
        if (explain.Count == 1 && string.Equals(explain[0], "all", StringComparison.OrdinalIgnoreCase))
        {
            return Predictor.AllReasons;
        }
        errors.Add("explain", $"must be 'all' (every feature's contribution) or left out (the top {Predictor.DefaultReasons}), not '{explain}'.");
        return Predictor.DefaultReasons;
    }
}
