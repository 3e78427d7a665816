using System.Security.Claims;
using Churn.Server.Jobs;
using Churn.Server.Models;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;
using Microsoft.AspNetCore.Mvc;
using MudBlazor.Services;

namespace Churn.Server.Dashboard;

/// <summary>Who may open which dashboard page. Every policy names the cookie scheme, so a refusal redirects to the login page.</summary>
public static class DashboardPolicies
{
    public const string Scheme = "DashboardCookie";
    public const string User = "dashboard";
    public const string Predict = "dashboard-predict";
    public const string Admin = "dashboard-admin";

    /// <summary>Request paths that belong to the dashboard (and so authenticate with its cookie, never an API key).</summary>
    public static bool IsDashboardPath(PathString path) =>
        path == "/" || path.StartsWithSegments("/dashboard") || path.StartsWithSegments("/account") || path.StartsWithSegments("/_blazor");
}

/// <summary>The Blazor dashboard: cookie sign-in for people, the same feature services as the API underneath.</summary>
public static class DashboardRegistration
{
    public static IHostApplicationBuilder AddDashboard(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<DashboardOptions>().BindConfiguration(DashboardOptions.Section).ValidateDataAnnotations().ValidateOnStart()
            .PostConfigure<IConfiguration>((o, config) =>
            {
                if (string.IsNullOrEmpty(o.AdminPassword) && config["CHURN_ADMIN_PASSWORD"] is { Length: > 0 } password)
                {
                    o.AdminPassword = password;
                }
            });
        builder.Services.AddSingleton<DashboardUsers>();
        builder.Services.AddSignInCounts();
        builder.Services.AddSingleton<SignInThrottle>();
        builder.Services.AddSingleton<RequestStats>();
        builder.Services.AddSingleton<DashboardQueries>();
        builder.Services.AddHostedService<DashboardStartup>();
        builder.Services.AddRazorComponents().AddInteractiveServerComponents();
        // The security headers already say DENY; antiforgery's own SAMEORIGIN would make two conflicting values on forms.
        builder.Services.AddAntiforgery(o => o.SuppressXFrameOptionsHeader = true);
        builder.Services.AddCascadingAuthenticationState();
        builder.Services.AddScoped<AuthenticationStateProvider, DashboardSessionRevalidation>();
        builder.Services.AddMudServices();
        builder.Services.AddAuthentication().AddCookie(DashboardPolicies.Scheme, o =>
        {
            o.LoginPath = "/account/login";
            o.LogoutPath = "/account/logout";
            o.AccessDeniedPath = "/account/denied";
            o.Cookie.Name = "churn.dashboard";
            o.Cookie.HttpOnly = true;
            // Strict keeps the cookie off cross-site requests, a second line behind antiforgery tokens on forms.
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.ExpireTimeSpan = TimeSpan.FromHours(8);
            o.SlidingExpiration = true;
            // A user disabled, removed or given another role since signing in loses the session at the next page load.
            o.Events.OnValidatePrincipal = async context =>
            {
                if (!await DashboardSessionRevalidation.IsCurrentAsync(context.Principal, context.HttpContext.RequestServices, context.HttpContext.RequestAborted))
                {
                    context.RejectPrincipal();
                    await context.HttpContext.SignOutAsync(DashboardPolicies.Scheme);
                }
            };
        });
        builder.Services.AddScoped<DashboardPermissions>();
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(DashboardPolicies.User, p => p.AddAuthenticationSchemes(DashboardPolicies.Scheme).RequireRole(DashboardUsers.UserRoles))
            .AddPolicy(DashboardPolicies.Predict, p => p.AddAuthenticationSchemes(DashboardPolicies.Scheme).RequireRole(Roles.Admin, Roles.Analyst))
            .AddPolicy(DashboardPolicies.Admin, p => p.AddAuthenticationSchemes(DashboardPolicies.Scheme).RequireRole(Roles.Admin));
        return builder;
    }

    public static WebApplication MapDashboard(this WebApplication app)
    {
        // Framework and MudBlazor scripts and styles: public, and never counted against the per-address rate limit.
        app.MapStaticAssets().AllowAnonymous().DisableRateLimiting();
        // Dashboard traffic (the sign-in form included) is exempt from the per-key API rate limit: password guessing
        // is guarded by SignInThrottle's lockout per user name and per address instead.
        app.MapRazorComponents<App>()
            // The security headers' CSP already forbids framing ('none'); Blazor's own "frame-ancestors 'self'" would be a second policy.
            .AddInteractiveServerRenderMode(o => o.ContentSecurityFrameAncestorsPolicy = null)
            .RequireAuthorization(DashboardPolicies.User)
            .DisableRateLimiting();
        app.MapPost("/account/logout", async (HttpContext context, [FromForm(Name = "returnUrl")] string? returnUrl) =>
            {
                await context.SignOutAsync(DashboardPolicies.Scheme);
                return TypedResults.LocalRedirect("/account/login");
            })
            .AllowAnonymous().DisableRateLimiting().ExcludeFromDescription();
        app.MapGet("/dashboard/jobs/{id:guid}/result", JobsApi.ResultAsync)
            .RequireAuthorization(DashboardPolicies.Predict).DisableRateLimiting().ExcludeFromDescription();
        return app;
    }

    /// <summary>The principal a signed-in dashboard user carries in the cookie.</summary>
    public static ClaimsPrincipal Principal(DashboardUserInfo user) => new(new ClaimsIdentity(
        [new Claim(ClaimTypes.Name, user.UserName), new Claim(ClaimTypes.Role, user.Role), new Claim(ClaimTypes.NameIdentifier, user.Id.ToString())],
        DashboardPolicies.Scheme));
}

/// <summary>Creates the first dashboard admin after the store has been migrated (it runs after <see cref="Models.StoreStartup"/>).</summary>
public sealed class DashboardStartup(DashboardUsers users, StartupNotes notes, IOptions<DashboardOptions> options) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        notes.DashboardAdminUser = o.AdminUser;
        notes.GeneratedAdminPassword = await users.EnsureAdminAsync(o.AdminUser, string.IsNullOrEmpty(o.AdminPassword) ? null : o.AdminPassword, cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>
/// Re-checks a signed-in user every minute while a page's circuit stays open, so disabling a user or changing their
/// role also ends sessions that never reload a page (the cookie check covers page loads).
/// </summary>
public sealed class DashboardSessionRevalidation(ILoggerFactory loggers, IServiceProvider services) : RevalidatingServerAuthenticationStateProvider(loggers)
{
    protected override TimeSpan RevalidationInterval => TimeSpan.FromMinutes(1);

    protected override Task<bool> ValidateAuthenticationStateAsync(AuthenticationState authenticationState, CancellationToken cancellationToken) =>
        IsCurrentAsync(authenticationState.User, services, cancellationToken);

    /// <summary>True when the principal's user still exists, is enabled and holds the role in the cookie; anonymous principals pass.</summary>
    public static async Task<bool> IsCurrentAsync(ClaimsPrincipal? principal, IServiceProvider services, CancellationToken cancellationToken)
    {
        if (principal?.Identity?.IsAuthenticated != true)
        {
            return true;
        }
        if (!Guid.TryParse(principal.FindFirstValue(ClaimTypes.NameIdentifier), out var id))
        {
            return false;
        }
        var user = await services.GetRequiredService<DashboardUsers>().FindAsync(id, cancellationToken);
        return user is { Disabled: false } && user.Role == principal.FindFirstValue(ClaimTypes.Role);
    }
}
