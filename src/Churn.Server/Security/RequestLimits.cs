using System.Globalization;
using System.Security.Claims;
using System.Threading.RateLimiting;
using Churn.Server.Coordination;
using Churn.Server.Health;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.AspNetCore.Mvc;

namespace Churn.Server.Security;

/// <summary>Per-key rate limiting, the request timeout and the security headers.</summary>
public static class RequestLimits
{
    public static IHostApplicationBuilder AddRequestLimits(this IHostApplicationBuilder builder)
    {
        builder.Services.AddRateLimiter(options =>
        {
            options.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            {
                var limit = context.RequestServices.GetRequiredService<RuntimeSettings>().Api.RateLimit;
                // The limit is part of the partition key, so a PUT /config change applies at once: new windows, new limit.
                var keyId = context.User.FindFirstValue(ApiKeyAuthenticationHandler.KeyIdClaim);
                if (keyId is null && RequestWarmUp.IsWarmUp(context.User))
                {
                    // The server's own warm-up before it reports ready; it must not use up anyone's window.
                    return RateLimitPartition.GetNoLimiter("warm-up");
                }
                var who = keyId is not null ? $"key:{keyId}" : $"ip:{context.Connection.RemoteIpAddress}";
                // With replicas (Churn:Redis set) the window is counted in Redis, so the limit holds for the key across all of them.
                if (context.RequestServices.GetRequiredService<RedisConnection>().Configured)
                {
                    return RedisParts.RatePartition(context.RequestServices, $"{who}:{limit}", limit);
                }
                return RateLimitPartition.GetFixedWindowLimiter($"{who}:{limit}", _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = limit,
                    Window = TimeSpan.FromMinutes(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                });
            });
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.OnRejected = async (rejected, ct) =>
            {
                var context = rejected.HttpContext;
                var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromMinutes(1);
                var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
                context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                context.RequestServices.GetRequiredService<Telemetry.ServerMetrics>().Error(StatusCodes.Status429TooManyRequests);
                await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = context,
                    ProblemDetails = new ProblemDetails
                    {
                        Status = StatusCodes.Status429TooManyRequests,
                        Title = "Too many requests.",
                        Detail = $"This key may make {context.RequestServices.GetRequiredService<RuntimeSettings>().Api.RateLimit} requests per minute (api.rate_limit); retry after {seconds} s.",
                    },
                });
            };
        });
        return builder;
    }

    /// <summary>Adds the security headers to every response; the interactive docs page gets a CSP that lets it run.</summary>
    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        var headers = context.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers.ContentSecurityPolicy = context.Request.Path.StartsWithSegments("/scalar")
            ? "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval' https://cdn.jsdelivr.net; style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; font-src 'self' data: https://fonts.gstatic.com https://cdn.jsdelivr.net; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'"
            : Dashboard.DashboardPolicies.IsDashboardPath(context.Request.Path)
                // The dashboard's scripts are all served from here; MudBlazor sets inline styles; the circuit is a same-origin WebSocket.
                ? "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'"
                : "default-src 'none'; frame-ancestors 'none'";
        return next(context);
    });

    /// <summary>
    /// Cancels a request after <c>api.timeout</c>. Written here rather than with the built-in timeout middleware because
    /// the timeout is a runtime setting that <c>PUT /config</c> changes without a restart. Endpoints marked with
    /// <c>DisableRequestTimeout()</c> (uploads of any size) are exempt.
    /// </summary>
    public static IApplicationBuilder UseRuntimeRequestTimeout(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        // The dashboard's circuit is a long-lived WebSocket; a request timeout would cut it every api.timeout.
        if (context.GetEndpoint()?.Metadata.GetMetadata<DisableRequestTimeoutAttribute>() is not null || context.WebSockets.IsWebSocketRequest
            || context.Request.Path.StartsWithSegments("/_blazor"))
        {
            await next(context);
            return;
        }
        var timeout = context.RequestServices.GetRequiredService<RuntimeSettings>().Api.Timeout;
        var aborted = context.RequestAborted;
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        limit.CancelAfter(timeout);
        context.RequestAborted = limit.Token;
        try
        {
            await next(context);
        }
        catch (OperationCanceledException ex) when (limit.IsCancellationRequested && !aborted.IsCancellationRequested)
        {
            throw new RequestTimedOutException(timeout, ex);
        }
        finally
        {
            context.RequestAborted = aborted;
        }
    });
}
