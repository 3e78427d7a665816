using System.Diagnostics;

namespace Churn.Server.Dashboard;

public sealed record RequestSummary(int Requests, double PerMinute, double P95Milliseconds, double ErrorRate, TimeSpan Window);

/// <summary>
/// The server's own tally of recent HTTP requests (time, duration, status) for the overview page: request rate,
/// latency p95 and error rate over the last minutes. The Prometheus metrics carry the same facts for scrapers.
/// </summary>
public sealed class RequestStats(TimeProvider time)
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(5);
    private const int Capacity = 50_000;
    private readonly Lock gate = new();
    private readonly Queue<(DateTimeOffset At, double Milliseconds, int Status)> recent = new();

    public void Record(double milliseconds, int status)
    {
        var now = time.GetUtcNow();
        lock (gate)
        {
            recent.Enqueue((now, milliseconds, status));
            Trim(now);
        }
    }

    public RequestSummary Summarize()
    {
        (DateTimeOffset At, double Milliseconds, int Status)[] items;
        lock (gate)
        {
            Trim(time.GetUtcNow());
            items = [.. recent];
        }
        if (items.Length == 0)
        {
            return new RequestSummary(0, 0, 0, 0, Window);
        }
        var sorted = items.Select(i => i.Milliseconds).Order().ToArray();
        var p95 = sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(0.95 * sorted.Length) - 1)];
        var errors = items.Count(i => i.Status >= 500);
        return new RequestSummary(items.Length, items.Length / Window.TotalMinutes, p95, (double)errors / items.Length, Window);
    }

    private void Trim(DateTimeOffset now)
    {
        while (recent.Count > 0 && (recent.Count > Capacity || now - recent.Peek().At > Window))
        {
            recent.Dequeue();
        }
    }
}

public static class RequestStatsMiddleware
{
    /// <summary>Counts API requests; the dashboard's own traffic (pages, circuit, static files) is left out so it does not hide the API's.</summary>
    public static IApplicationBuilder UseRequestStats(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var path = context.Request.Path;
        if (Dashboard.DashboardPolicies.IsDashboardPath(path) || path.StartsWithSegments("/_framework") || path.StartsWithSegments("/_content"))
        {
            await next(context);
            return;
        }
        var started = Stopwatch.GetTimestamp();
        try
        {
            await next(context);
        }
        finally
        {
            context.RequestServices.GetRequiredService<RequestStats>().Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds, context.Response.StatusCode);
        }
    });
}
