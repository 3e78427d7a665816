using Churn.Server.Security;

namespace Churn.Server.Monitoring;

/// <summary>One stored check result of a time series.</summary>
public sealed record MonitoringPoint(long Id, DateTimeOffset Time, DateTimeOffset WindowStart, DateTimeOffset WindowEnd, JsonElement Result);

/// <summary>
/// <c>/monitoring/*</c>: the stored drift, quality and performance time series between <c>from</c> and <c>to</c>
/// (the last 7 days by default, oldest first), and <c>POST /monitoring/run</c> to check now.
/// </summary>
public static class MonitoringApi
{
    public const int MaxPoints = 2000;

    public static IEndpointRouteBuilder MapMonitoring(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/monitoring").WithTags("Monitoring").RequireAuthorization(Policies.Read);
        group.MapGet("/drift", (DateTimeOffset? from, DateTimeOffset? to, string? segment, StoreFactory store, TimeProvider time, CancellationToken ct) =>
            SeriesAsync(MonitoringKinds.Drift, from, to, segment, store, time, ct))
            .WithSummary("Drift per feature, drifted share and score drift per check; ?segment=column=level for one segment's drift against its own reference rows.");
        group.MapGet("/quality", (DateTimeOffset? from, DateTimeOffset? to, string? segment, StoreFactory store, TimeProvider time, CancellationToken ct) =>
            SeriesAsync(MonitoringKinds.Quality, from, to, segment, store, time, ct))
            .WithSummary("Data quality of logged inputs against the reference per check; ?segment=column=level for one segment.");
        group.MapGet("/performance", (DateTimeOffset? from, DateTimeOffset? to, string? segment, StoreFactory store, TimeProvider time, CancellationToken ct) =>
            SeriesAsync(MonitoringKinds.Performance, from, to, segment, store, time, ct))
            .WithSummary("Realised (from feedback whose outcome is final), estimated performance and calibration per model version per check; ?segment=column=level for the champion in one segment.");
        group.MapGet("/system", (DateTimeOffset? from, DateTimeOffset? to, string? segment, StoreFactory store, TimeProvider time, CancellationToken ct) =>
            SeriesAsync(MonitoringKinds.System, from, to, segment, store, time, ct)).WithSummary("Scoring latency percentiles and server error rate per check (not kept per segment).");
        group.MapGet("/segments", (DateTimeOffset? from, DateTimeOffset? to, string? segment, StoreFactory store, TimeProvider time, CancellationToken ct) =>
            SeriesAsync(MonitoringKinds.Segments, from, to, segment, store, time, ct))
            .WithSummary("Every segment of monitoring.segments per check: rows, drift, quality, performance and calibration; ?segment=column=level for one.");
        group.MapGet("/shadow", ShadowComparison.GetAsync)
            .WithSummary("The challenger against the champion on the same shadow-scored live predictions: differences, agreement and AUC on labelled rows.");
        group.MapPost("/run", RunAsync).RequireAuthorization(Policies.Admin)
            .WithSummary("Runs a monitoring check now over the window (or from the given time) and returns what it found and the alerts it raised.");
        return routes;
    }

    private static async Task<Results<Ok<List<MonitoringPoint>>, ProblemHttpResult>> SeriesAsync(
        string kind, DateTimeOffset? from, DateTimeOffset? to, string? segment, StoreFactory store, TimeProvider time, CancellationToken ct)
    {
        var end = to ?? time.GetUtcNow();
        var start = from ?? end.AddDays(-7);
        if (start > end)
        {
            return Errors.JsonBody.Invalid(new() { ["from"] = [$"is after to ({end:O})."] }, StatusCodes.Status400BadRequest);
        }
        if (segment is null)
        {
            return TypedResults.Ok(await MonitoringSeries.ReadAsync(store, kind, start, end, MaxPoints, ct));
        }
        if (segment.IndexOf('=', StringComparison.Ordinal) is <= 0 || segment.EndsWith('=') || kind == MonitoringKinds.System)
        {
            return Errors.JsonBody.Invalid(new()
            {
                ["segment"] = [kind == MonitoringKinds.System
                    ? "system metrics are not kept per segment."
                    : $"'{segment}' is not a segment: write column=level, e.g. contract=Month-to-month or tenureMonths=6-24."],
            }, StatusCodes.Status400BadRequest);
        }
        return TypedResults.Ok(await MonitoringSeries.ReadSegmentAsync(store, kind, segment, start, end, MaxPoints, ct));
    }

    private static async Task<Ok<MonitoringSummary>> RunAsync(DateTimeOffset? from, MonitoringCheck check, CancellationToken ct) =>
        TypedResults.Ok(await check.RunAsync(from, ct));
}

/// <summary><c>GET /alerts</c> and <c>POST /alerts/{id}/acknowledge</c>.</summary>
public static class AlertsApi
{
    public static IEndpointRouteBuilder MapAlerts(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/alerts").WithTags("Monitoring");
        group.MapGet("/", ListAsync).RequireAuthorization(Policies.Read).WithSummary("Alerts, newest first; ?open=true for unacknowledged ones only.");
        group.MapPost("/{id:guid}/acknowledge", AcknowledgeAsync).RequireAuthorization(Policies.Acknowledge)
            .WithSummary("Acknowledges an alert (audited); the condition may alert again at the next check.");
        return routes;
    }

    private static async Task<Ok<List<AlertResponse>>> ListAsync(bool? open, int? limit, StoreFactory store, CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        var query = db.Alerts.AsNoTracking();
        if (open == true)
        {
            query = query.Where(a => a.AcknowledgedAt == null);
        }
        var alerts = await query.OrderByDescending(a => a.RaisedAt).Take(Math.Clamp(limit ?? 100, 1, 1000)).ToListAsync(ct);
        return TypedResults.Ok(alerts.Select(a => a.AsResponse()).ToList());
    }

    private static async Task<Results<Ok<AlertResponse>, NotFound>> AcknowledgeAsync(
        Guid id, StoreFactory store, AuditLog audit, TimeProvider time, HttpContext context, CancellationToken ct)
    {
        var alert = await AlertAcknowledgement.AcknowledgeAsync(id, context.AuditActor(), store, audit, time, ct);
        return alert is null ? TypedResults.NotFound() : TypedResults.Ok(alert);
    }
}

public static class MonitoringRegistration
{
    public static IHostApplicationBuilder AddMonitoring(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<WebhookOptions>().BindConfiguration("Churn:Monitoring").ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddHttpClient(nameof(AlertWebhook));
        builder.Services.AddHostedSingleton<AlertWebhook>();
        builder.Services.AddSingleton<AlertRaiser>();
        builder.Services.AddSingleton<ReferenceRows>();
        builder.Services.AddSingleton<MonitoringCheck>();
        builder.Services.AddHostedService<MonitoringJob>();
        builder.Services.AddSingleton<RetentionPurge>();
        builder.Services.AddHostedService<RetentionJob>();
        return builder;
    }
}
