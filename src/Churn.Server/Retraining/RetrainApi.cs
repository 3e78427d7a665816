using Churn.Data.Retraining;
using Churn.Data.Tracking;
using Churn.Server.Jobs;
using Churn.Server.Predictions;
using Churn.Server.Security;

namespace Churn.Server.Retraining;

/// <summary><c>POST /retrain</c>: starts a retraining as a job (polled at <c>/jobs/{id}</c>); one at a time across replicas and the command line.</summary>
public static class RetrainApi
{
    public static IEndpointRouteBuilder MapRetrain(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/retrain", RetrainAsync).WithTags("Jobs").RequireAuthorization(Policies.Admin)
            .Accepts<RetrainRequest>("application/json")
            .WithSummary("Starts retraining in the background; answers 202 with the job to poll. One retraining at a time.");
        return routes;
    }

    private static async Task<Results<Accepted<JobState>, ProblemHttpResult>> RetrainAsync(
        HttpRequest request, RetrainQueue queue, JobBoard board, IOptions<ServerOptions> options, HttpContext context, CancellationToken ct)
    {
        var o = options.Value;
        var errors = new FieldErrors();
        int? rows = null, seed = null;
        double? drift = null;
        if (request.ContentLength > 0 || request.HasJsonContentType())
        {
            using var body = await JsonBody.ReadAsync(request, o.MaxJsonBodyBytes, ct);
            if (body.RootElement.ValueKind != JsonValueKind.Object)
            {
                errors.Add("$", "must be an object such as {\"rows\": 20000, \"seed\": 7, \"drift\": 0.3}.");
            }
            else
            {
                foreach (var p in body.RootElement.EnumerateObject())
                {
                    switch (p.Name)
                    {
                        case "rows":
                            rows = Bounded(p, 500, 2_000_000, whole: true, errors) is { } r ? (int)r : null;
                            break;
                        case "seed" when p.Value.ValueKind == JsonValueKind.Number && p.Value.TryGetInt32(out var s):
                            seed = s;
                            break;
                        case "seed":
                            errors.Add("seed", "must be a whole number.");
                            break;
                        case "drift":
                            drift = Bounded(p, 0, 1, whole: false, errors);
                            break;
                        default:
                            errors.Add(p.Name, "is not a known field; send rows, seed and drift.");
                            break;
                    }
                }
            }
        }
        if (errors.Any)
        {
            return JsonBody.Invalid(errors.Errors);
        }
        var by = context.AuditActor();
        // rows and drift replace the reference data by a generated sample (demos, tests); held-out rows stay the reference's.
        var sample = rows is null && drift is null ? null
            : new GeneratedSample(rows ?? o.SampleRows, seed ?? (o.SampleSeed + 1 + board.All.Count(j => j.Kind == "retrain")), drift ?? 0);
        var (job, refusal) = await queue.RequestAsync(new RetrainOrder(RunTrigger.User, by, $"requested by {by.Name}", seed, Sample: sample), ct);
        // ProblemDetails as application/problem+json, like every other refusal.
        return job is null
            ? TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "A retraining is already under way.", detail: refusal)
            : TypedResults.Accepted($"/jobs/{job.Id}", job);
    }

    // rows and drift are both a number within bounds (rows a whole one): the value, or null and a problem naming the bounds.
    private static double? Bounded(JsonProperty field, double min, double max, bool whole, FieldErrors errors)
    {
        var value = field.Value;
        var number = double.NaN;
        if (value.ValueKind == JsonValueKind.Number)
        {
            number = whole ? (value.TryGetInt32(out var n) ? n : double.NaN) : (value.TryGetDouble(out var d) ? d : double.NaN);
        }
        if (number >= min && number <= max)
        {
            return number;
        }
        errors.Add(field.Name, FormattableString.Invariant($"must be a {(whole ? "whole number" : "number")} from {min} to {max}."));
        return null;
    }
}
