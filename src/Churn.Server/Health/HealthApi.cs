using Churn.Data.Mlflow;
using Churn.Server.Coordination;
using Churn.Server.Models;
using Churn.Server.Predictions;

namespace Churn.Server.Health;

public sealed record HealthStatus(string Status);

public sealed record HealthDetails(
    string Status, bool ModelLoaded, string? ModelName, int? ModelVersion, DateTimeOffset? ModelLoadedAt,
    bool StoreAvailable, string? StoreError, bool PredictionLogSpillPending, TimeSpan Uptime, string Instance, bool Leader,
    string? PredictionLogSpillError = null, MirrorStatus? Mlflow = null);

/// <summary>
/// Liveness (the process answers) and readiness (a warmed-up champion is loaded, the request path is warmed up
/// (<see cref="RequestWarmUp"/>) and the store answers). Anonymous
/// callers get only the status; a valid key of any role also gets the details.
/// </summary>
public static class HealthApi
{
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/health").WithTags("Health").AllowAnonymous().DisableRateLimiting();
        group.MapGet("/live", () => TypedResults.Ok(new HealthStatus("live"))).WithSummary("Liveness: the process is up.");
        group.MapGet("/", ReadyAsync).WithSummary("Readiness; details for authenticated callers.");
        return routes;
    }

    private static async Task<Results<Ok<HealthStatus>, Ok<HealthDetails>, JsonHttpResult<HealthStatus>, JsonHttpResult<HealthDetails>>> ReadyAsync(
        HttpContext context, ModelHost host, StoreFactory store, PredictionSpill spill, LeaderElection leader, IOptions<ServerOptions> options, TimeProvider time,
        MlflowMirror mlflow, RequestWarmUp warmUp, CancellationToken ct)
    {
        string? storeError = null;
        try
        {
            await using var db = store.CreateDbContext();
            if (!await db.Database.CanConnectAsync(ct))
            {
                storeError = "The store does not answer.";
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Readiness reports the failure instead of failing itself.
            storeError = ex.Message;
        }
        var model = host.Current;
        var ready = model is not null && storeError is null && warmUp.IsFinished;
        var status = ready ? "ready" : model is null ? "starting" : storeError is not null ? "degraded" : "warming";
        if (context.User.Identity?.IsAuthenticated != true)
        {
            return ready ? TypedResults.Ok(new HealthStatus(status)) : TypedResults.Json(new HealthStatus(status), statusCode: StatusCodes.Status503ServiceUnavailable);
        }
        var details = new HealthDetails(status, model is not null, model?.Name, model?.Version, model?.LoadedAt, storeError is null, storeError,
            spill.HasPending, time.GetUtcNow() - System.Diagnostics.Process.GetCurrentProcess().StartTime.ToUniversalTime(),
            options.Value.InstanceId, leader.IsLeader, spill.Failure, storeError is null ? await MirrorStatusAsync(mlflow, ct) : null);
        return ready ? TypedResults.Ok(details) : TypedResults.Json(details, statusCode: StatusCodes.Status503ServiceUnavailable);
    }

    /// <summary>The MLflow mirror's outbox, when mirroring is on. It does not decide readiness: MLflow is a mirror.</summary>
    private static async Task<MirrorStatus?> MirrorStatusAsync(MlflowMirror mlflow, CancellationToken ct)
    {
        try
        {
            return await mlflow.StatusAsync(ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The store answered a moment ago; a failure here leaves the detail out rather than failing the health check.
            return null;
        }
    }
}
