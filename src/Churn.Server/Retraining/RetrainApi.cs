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
                        case "rows" when p.Value.ValueKind == JsonValueKind.Number && p.Value.TryGetInt32(out var r) && r is >= 500 and <= 2_000_000:
                            rows = r;
                            break;
                        case "rows":
                            errors.Add("rows", "must be a whole number from 500 to 2000000.");
                            break;
                        case "seed" when p.Value.ValueKind == JsonValueKind.Number && p.Value.TryGetInt32(out var s):
                            seed = s;
                            break;
                        case "seed":
                            errors.Add("seed", "must be a whole number.");
                            break;
                        case "drift" when p.Value.ValueKind == JsonValueKind.Number && p.Value.TryGetDouble(out var d) && d is >= 0 and <= 1:
                            drift = d;
                            break;
                        case "drift":
                            errors.Add("drift", "must be a number from 0 to 1.");
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
}
