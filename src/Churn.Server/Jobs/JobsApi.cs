using Churn.Server.Models;
using Churn.Server.Security;
using Microsoft.AspNetCore.Mvc;

namespace Churn.Server.Jobs;

/// <summary><c>POST /jobs/score</c> and job status and results (of scoring and retraining jobs alike).</summary>
public static class JobsApi
{
    public static IEndpointRouteBuilder MapJobs(this IEndpointRouteBuilder routes)
    {
        var jobs = routes.MapGroup("/jobs").WithTags("Jobs");
        jobs.MapPost("/score", ScoreFileAsync).RequireAuthorization(Policies.Predict)
            .Accepts<IFormFile>("text/csv", "multipart/form-data")
            // Files of any realistic size, but not unbounded: the limit is Churn:MaxUploadBytes.
            .WithMetadata(new RequestSizeLimitAttribute(routes.ServiceProvider.GetRequiredService<IOptions<ServerOptions>>().Value.MaxUploadBytes))
            .DisableRequestTimeout()
            .WithSummary("Uploads a CSV of customers (any size) to score in the background; the result CSV is at /jobs/{id}/result. ?contributions=true adds shap_base and one shap_<feature> column per feature.");
        jobs.MapGet("/{id:guid}", GetAsync).RequireAuthorization(Policies.AnyKey).WithSummary("A job's status and progress, from any replica.");
        jobs.MapGet("/{id:guid}/result", ResultAsync).RequireAuthorization(Policies.AnyKey).WithSummary("Downloads a finished scoring job's result CSV.");
        return routes;
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

    private static async Task<Results<Ok<JobState>, NotFound>> GetAsync(Guid id, JobBoard board, CancellationToken ct) =>
        await board.FindAsync(id, ct) is { } job ? TypedResults.Ok(job) : TypedResults.NotFound();

    internal static async Task<Results<PhysicalFileHttpResult, NotFound, ProblemHttpResult>> ResultAsync(Guid id, JobBoard board, CancellationToken ct)
    {
        if (await board.FindAsync(id, ct) is not { } job || job.Kind != "score")
        {
            return TypedResults.NotFound();
        }
        if (job.Status != JobStatus.Succeeded || job.ResultFile is null)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "The result is not ready.",
                detail: $"The job is {job.Status.ToString().ToLowerInvariant()}{(job.Error is null ? "" : $": {job.Error}")}.");
        }
        if (!File.Exists(job.ResultFile))
        {
            // Retention deleted the files a moment before the row.
            return TypedResults.NotFound();
        }
        return TypedResults.PhysicalFile(job.ResultFile, "text/csv", $"churn-scores-{id:N}.csv");
    }
}

public static class JobsRegistration
{
    public static IHostApplicationBuilder AddJobs(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<JobRecords>();
        builder.Services.AddSingleton<JobBoard>();
        // Registered before the jobs that report to the board, so it stops after them and writes their last states.
        builder.Services.AddHostedService<JobRecordsJob>();
        builder.Services.AddHostedSingleton<ScoringJob>();
        return builder;
    }
}
