using Churn.Server.Security;

namespace Churn.Server.Settings;

/// <summary><c>GET /config</c> (read roles) and <c>PUT /config</c> (admin; validated, stored, audited, applied at once).</summary>
public static class ConfigApi
{
    public static IEndpointRouteBuilder MapConfig(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/config").WithTags("Configuration");
        group.MapGet("/", (RuntimeSettings settings) => TypedResults.Ok(settings.Current)).RequireAuthorization(Policies.Read)
            .WithSummary("The settings in force.");
        group.MapPut("/", UpdateAsync).RequireAuthorization(Policies.Admin)
            .Accepts<SettingsSnapshot>("application/json")
            .WithSummary("Changes settings (any subset, e.g. {\"api\": {\"rate_limit\": 50}}); applied without a restart.");
        return routes;
    }

    private static async Task<Results<Ok<SettingsSnapshot>, ProblemHttpResult>> UpdateAsync(
        HttpRequest request, RuntimeSettings settings, IOptions<ServerOptions> options, HttpContext context, CancellationToken ct)
    {
        using var body = await JsonBody.ReadAsync(request, options.Value.MaxJsonBodyBytes, ct);
        var (updated, errors, _) = await settings.UpdateAsync(body.RootElement, context.AuditActor(), ct);
        return errors.Count > 0 ? JsonBody.Invalid(errors) : TypedResults.Ok(updated);
    }
}
