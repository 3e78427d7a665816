using System.Text.Json;
using Churn.Server.Coordination;
using Churn.Server.Errors;
using Churn.Server.Hosting;
using Churn.Server.Models;
using Churn.Server.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Churn.Server.Jobs;

/// <summary>
/// Optional body of <c>POST /retrain</c>. Without one the challenger trains on the reference data plus labelled feedback;
/// <c>rows</c>/<c>drift</c> replace the reference data by a generated sample, <c>seed</c> seeds the training.
/// </summary>
public sealed record RetrainRequest(int? Rows, int? Seed, double? Drift);

/// <summary><c>POST /retrain</c>, <c>POST /jobs/score</c> and job status and results.</summary>
public static class JobsApi
{
    public static IEndpointRouteBuilder MapJobs(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/retrain", RetrainAsync).WithTags("Jobs").RequireAuthorization(Policies.Admin)
            .Accepts<RetrainRequest>("application/json")
            .WithSummary("Starts retraining in the background; answers 202 with the job to poll. One retraining at a time.");

        var jobs = routes.MapGroup("/jobs").WithTags("Jobs");
        jobs.MapPost("/score", ScoreFileAsync).RequireAuthorization(Policies.Predict)
            .Accepts<IFormFile>("text/csv", "multipart/form-data")
            // Files of any realistic size, but not unbounded: the limit is Churn:MaxUploadBytes.
            .WithMetadata(new RequestSizeLimitAttribute(routes.ServiceProvider.GetRequiredService<IOptions<ServerOptions>>().Value.MaxUploadBytes))
            .DisableRequestTimeout()
            .WithSummary("Uploads a CSV of customers (any size) to score in the background; the result CSV is at /jobs/{id}/result. ?contributions=true adds shap_base and one shap_<feature> column per feature.");
        jobs.MapGet("/{id:guid}", Get).RequireAuthorization(Policies.AnyKey).WithSummary("A job's status and progress.");
        jobs.MapGet("/{id:guid}/result", Result).RequireAuthorization(Policies.AnyKey).WithSummary("Downloads a finished scoring job's result CSV.");
        return routes;
    }

    private static async Task<Results<Accepted<JobState>, ProblemHttpResult>> RetrainAsync(
        HttpRequest request, RetrainQueue queue, JobBoard board, TrainingLock trainingLock, AuditLog audit, IOptions<ServerOptions> options, HttpContext context,
        CancellationToken ct)
    {
        var o = options.Value;
        var errors = new Predictions.FieldErrors();
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
        var actor = context.User.KeyName();
        // rows and drift replace the reference data by a generated sample (demos, tests); held-out rows stay the reference's.
        Models.TrainingRequest? generated = rows is null && drift is null ? null
            : new Models.TrainingRequest(rows ?? o.SampleRows, seed ?? (o.SampleSeed + 1 + board.All.Count(j => j.Kind == "retrain")), drift ?? 0);
        // The training lock is taken before answering, so of two requests to two replicas one is refused here, at once.
        var (job, refusal) = await queue.RequestLockedAsync(trainingLock, Data.Tracking.RunTrigger.User, actor, $"requested by {actor}", generated, seed, ct);
        if (job is null)
        {
            // ProblemDetails as application/problem+json, like every other refusal.
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "A retraining is already under way.", detail: refusal);
        }
        await audit.RecordAsync(context, "model.retrain", job.Id.ToString(), new { rows, seed, drift });
        return TypedResults.Accepted($"/jobs/{job.Id}", job);
    }

    private static async Task<Results<Accepted<JobState>, ProblemHttpResult>> ScoreFileAsync(
        HttpRequest request, ScoringJob scoring, ModelHost host, HttpContext context, CancellationToken ct)
    {
        var model = host.Require();
        var contributions = false;
        if (request.Query.TryGetValue("contributions", out var flag))
        {
            if (flag.Count != 1 || !bool.TryParse(flag[0], out contributions))
            {
                return JsonBody.Invalid(new() { ["contributions"] = [$"must be true or false, not '{flag}'."] });
            }
            if (contributions && !model.Scorer.Model.CanExplain)
            {
                return JsonBody.Invalid(new() { ["contributions"] = [$"model v{model.Version} cannot give contributions (it has no tree covers); retrain it."] });
            }
        }
        Stream upload;
        IFormFile? file = null;
        if (request.HasFormContentType)
        {
            var form = await request.ReadFormAsync(ct);
            file = form.Files.FirstOrDefault();
            if (file is null)
            {
                return JsonBody.Invalid(new() { ["file"] = ["is required: attach the CSV as a form file."] }, StatusCodes.Status400BadRequest);
            }
            upload = file.OpenReadStream();
        }
        else if (request.ContentType is { } type && (type.StartsWith("text/csv", StringComparison.OrdinalIgnoreCase) || type.StartsWith("application/csv", StringComparison.OrdinalIgnoreCase)))
        {
            upload = request.Body;
        }
        else
        {
            throw new BadHttpRequestException("Upload the CSV as text/csv or as a multipart/form-data file.", StatusCodes.Status415UnsupportedMediaType);
        }

        var submitted = await scoring.SubmitAsync(upload, context.User.KeyName(), ct, contributions);
        if (submitted.Error == ScoringJob.QueueFull)
        {
            // The server is healthy, only busy: 429 with a time to come back, as for the rate limit.
            context.Response.Headers.RetryAfter = "5";
            return TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: submitted.Error, detail: "Try again when some have finished.");
        }
        return submitted.Error switch
        {
            null => TypedResults.Accepted($"/jobs/{submitted.Job.Id}", submitted.Job),
            _ => JsonBody.Invalid(new() { ["file"] = ["is empty."] }, StatusCodes.Status400BadRequest),
        };
    }

    private static Results<Ok<JobState>, NotFound> Get(Guid id, JobBoard board) =>
        board.Get(id) is { } job ? TypedResults.Ok(job) : TypedResults.NotFound();

    internal static Results<PhysicalFileHttpResult, NotFound, ProblemHttpResult> Result(Guid id, JobBoard board)
    {
        if (board.Get(id) is not { } job || job.Kind != "score")
        {
            return TypedResults.NotFound();
        }
        if (job.Status != JobStatus.Succeeded || job.ResultFile is null)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "The result is not ready.",
                detail: $"The job is {job.Status.ToString().ToLowerInvariant()}{(job.Error is null ? "" : $": {job.Error}")}.");
        }
        return TypedResults.PhysicalFile(job.ResultFile, "text/csv", $"churn-scores-{id:N}.csv");
    }
}

public static class JobsRegistration
{
    public static IHostApplicationBuilder AddJobs(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<JobBoard>();
        builder.Services.AddSingleton<RetrainQueue>();
        builder.Services.AddSingleton<Data.Settings.StoreLock>();
        builder.Services.AddSingleton<TrainingLock>();
        builder.Services.AddSingleton<ChallengerTraining>();
        builder.Services.AddHostedService<RetrainJob>();
        builder.Services.AddHostedService<RetrainScheduleJob>();
        builder.Services.AddSingleton<ScoringJob>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ScoringJob>());
        return builder;
    }
}
