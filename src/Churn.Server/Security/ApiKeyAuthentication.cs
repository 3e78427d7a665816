using System.Runtime.CompilerServices;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Churn.Server.Health;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;

namespace Churn.Server.Security;

/// <summary>
/// Authenticates <c>X-API-Key</c> (or <c>Authorization: Bearer</c>, which Prometheus scrapers can send) against the
/// hashed keys. The secret itself is never logged.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiKeyStore keys,
    RequestWarmUp warmUp,
    IProblemDetailsService problems) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string Header = "X-API-Key";
    public const string KeyIdClaim = "churn:key-id";

    /// <summary>
    /// Each key's principal, built once per identity the key store hands out (it keeps one while the key is cached), so a
    /// key's requests share it instead of building three claims and formatting the key's id every time. Nothing in the
    /// pipeline changes a principal; a weak table lets it go with the identity.
    /// </summary>
    private static readonly ConditionalWeakTable<KeyIdentity, ClaimsPrincipal> Principals = [];

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? secret = Request.Headers[Header];
        if (string.IsNullOrEmpty(secret) && Request.Headers.Authorization.ToString() is { } auth
            && auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            secret = auth["Bearer ".Length..].Trim();
        }
        if (string.IsNullOrEmpty(secret))
        {
            return AuthenticateResult.NoResult();
        }
        if (warmUp.Authenticate(secret, Context.Connection.RemoteIpAddress) is { } warming)
        {
            return AuthenticateResult.Success(new AuthenticationTicket(warming, SchemeName));
        }
        var key = await keys.FindAsync(secret, Context.RequestAborted);
        if (key is null)
        {
            return AuthenticateResult.Fail("The API key is not valid or has been revoked.");
        }
        return AuthenticateResult.Success(new AuthenticationTicket(Principals.GetValue(key, Principal), SchemeName));
    }

    private static ClaimsPrincipal Principal(KeyIdentity key) => new(new ClaimsIdentity(
        [new Claim(ClaimTypes.Name, key.Name), new Claim(ClaimTypes.Role, key.Role), new Claim(KeyIdClaim, key.Id.ToString())],
        SchemeName));

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = $"{SchemeName} header=\"{Header}\"";
        var failed = (await HandleAuthenticateOnceSafeAsync()).Failure is not null;
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status401Unauthorized,
                Title = "An API key is required.",
                Detail = failed ? "The API key is not valid or has been revoked." : $"Send a key in the {Header} header.",
            },
        });
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status403Forbidden,
                Title = "This API key's role may not do that.",
                Detail = $"The key '{Context.User.Identity?.Name}' has role '{Context.User.FindFirstValue(ClaimTypes.Role)}'.",
            },
        });
    }
}

public static class SecurityRegistration
{
    public const string SelectorScheme = "ApiKeyOrCookie";

    public static IHostApplicationBuilder AddApiKeySecurity(this IHostApplicationBuilder builder)
    {
        // API routes authenticate with a key; dashboard routes (no key sent) with the dashboard's cookie. Choosing by
        // path keeps cookies away from the API (no cross-site requests riding on a browser session) and keeps the
        // API's 401 ProblemDetails instead of a login redirect.
        builder.Services.AddAuthentication(SelectorScheme)
            .AddPolicyScheme(SelectorScheme, "API key or dashboard cookie", o => o.ForwardDefaultSelector = context =>
                !context.Request.Headers.ContainsKey(ApiKeyAuthenticationHandler.Header) && !context.Request.Headers.ContainsKey("Authorization")
                && Dashboard.DashboardPolicies.IsDashboardPath(context.Request.Path)
                    ? Dashboard.DashboardPolicies.Scheme
                    : ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(Policies.Predict, p => p.RequireRole(Roles.Admin, Roles.Analyst, Roles.Service))
            .AddPolicy(Policies.Feedback, p => p.RequireRole(Roles.Admin, Roles.Service))
            .AddPolicy(Policies.Read, p => p.RequireRole(Roles.Admin, Roles.Analyst, Roles.Viewer))
            .AddPolicy(Policies.Admin, p => p.RequireRole(Roles.Admin))
            .AddPolicy(Policies.Acknowledge, p => p.RequireRole(Roles.Admin, Roles.Analyst))
            .AddPolicy(Policies.Campaigns, p => p.RequireRole(Roles.Admin, Roles.Analyst))
            .AddPolicy(Policies.AnyKey, p => p.RequireAuthenticatedUser())
            // Everything needs a key unless it opts out explicitly (liveness, bare readiness, the API documents).
            .SetFallbackPolicy(new Microsoft.AspNetCore.Authorization.AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());
        builder.AddRequestLimits();
        return builder;
    }
}
