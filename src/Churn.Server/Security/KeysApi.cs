namespace Churn.Server.Security;

public sealed record CreateKeyRequest(string? Name, string? Role);

/// <summary>API keys and the audit log: admin only.</summary>
public static class KeysApi
{
    public static IEndpointRouteBuilder MapKeys(this IEndpointRouteBuilder routes)
    {
        var keys = routes.MapGroup("/keys").WithTags("Security").RequireAuthorization(Policies.Admin);
        keys.MapPost("/", CreateAsync).Accepts<CreateKeyRequest>("application/json").WithSummary("Creates an API key; the key is returned only in this response.");
        keys.MapGet("/", ListAsync).WithSummary("Lists API keys (never their secrets).");
        keys.MapDelete("/{id:guid}", RevokeAsync).WithSummary("Revokes an API key.");

        routes.MapGet("/audit", async (AuditLog audit, int? limit, string? action, CancellationToken ct) =>
                TypedResults.Ok(await audit.ListAsync(Math.Clamp(limit ?? 100, 1, 1000), action, ct)))
            .WithTags("Security").RequireAuthorization(Policies.Admin).WithSummary("The audit log, newest first.");
        return routes;
    }

    private static async Task<Results<Created<CreatedKey>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        HttpRequest http, ApiKeyStore keys, IOptions<ServerOptions> options, HttpContext context, CancellationToken ct)
    {
        // Read through JsonBody like every JSON body: a field given twice is refused by name instead of the last one winning.
        var request = await JsonBody.ReadAsync<CreateKeyRequest>(http, options.Value.MaxJsonBodyBytes, ct) ?? new CreateKeyRequest(null, null);
        var errors = Validate(request.Name, request.Role);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "The key request is not valid.");
        }
        var created = await keys.CreateAsync(request.Name!, request.Role!, context.AuditActor(), ct);
        return created is null
            ? TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "A key with this name exists.", detail: $"Choose another name than '{request.Name}'.")
            : TypedResults.Created($"/keys/{created.Id}", created);
    }

    /// <summary>The problems with a key request, keyed by field; empty when it is valid. The dashboard's form uses it too.</summary>
    public static Dictionary<string, string[]> Validate(string? name, string? role)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(name) || name.Length > 100)
        {
            errors["name"] = ["is required (1 to 100 characters)."];
        }
        if (role is null || !Roles.IsKnown(role))
        {
            errors["role"] = [$"must be one of {string.Join(", ", Roles.All)}."];
        }
        return errors;
    }

    private static async Task<Ok<IReadOnlyList<KeyInfo>>> ListAsync(ApiKeyStore keys, CancellationToken ct) =>
        TypedResults.Ok(await keys.ListAsync(ct));

    private static async Task<Results<Ok<KeyInfo>, NotFound>> RevokeAsync(Guid id, ApiKeyStore keys, HttpContext context, CancellationToken ct) =>
        await keys.RevokeAsync(id, context.AuditActor(), ct) is { } revoked ? TypedResults.Ok(revoked) : TypedResults.NotFound();
}
