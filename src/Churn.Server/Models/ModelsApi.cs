using Churn.Data;
using Churn.Data.Registry;
using Churn.Server.Security;

namespace Churn.Server.Models;

public sealed record ModelVersionResponse(
    string Name, int Version, IReadOnlyList<string> Aliases, bool Serving, DateTimeOffset CreatedAt, string CreatedBy, string Sha256, long SizeBytes, Guid RunId);

public sealed record ModelDetailResponse(ModelVersionResponse Version, JsonElement Card);

public sealed record PromoteRequest(string? Reason);

public sealed record RollbackRequest(int? ToVersion, string? Reason);

public sealed record ServingResponse(string Name, int Version, string Alias, DateTimeOffset LoadedAt);

/// <summary>The registry over HTTP: list and read versions (read roles), promote and roll back the champion (admin).</summary>
public static class ModelsApi
{
    public static IEndpointRouteBuilder MapModels(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/models").WithTags("Models");
        group.MapGet("/", ListAsync).RequireAuthorization(Policies.Read).WithSummary("Registered versions, oldest first, with their aliases.");
        group.MapGet("/{version:int}", GetAsync).RequireAuthorization(Policies.Read).WithSummary("One version with its model card.");
        group.MapPost("/{version:int}/promote", PromoteAsync).RequireAuthorization(Policies.Admin)
            .Accepts<PromoteRequest>(isOptional: true, "application/json")
            .WithSummary("Makes a version the champion; the serving model is swapped without dropping a request.");
        group.MapPost("/rollback", RollbackAsync).RequireAuthorization(Policies.Admin)
            .Accepts<RollbackRequest>(isOptional: true, "application/json")
            .WithSummary("Moves the champion back to the previous champion (or to toVersion).");
        return routes;
    }

    private static async Task<Ok<IReadOnlyList<ModelVersionResponse>>> ListAsync(ModelRegistry registry, ModelLoader loader, ModelHost host, CancellationToken ct)
    {
        var versions = await registry.ListVersionsAsync(loader.ModelName, ct);
        return TypedResults.Ok<IReadOnlyList<ModelVersionResponse>>([.. versions.Select(v => AsResponse(v, host))]);
    }

    private static async Task<Results<Ok<ModelDetailResponse>, NotFound>> GetAsync(int version, ModelRegistry registry, ModelLoader loader, ModelHost host, CancellationToken ct)
    {
        var found = await registry.GetVersionAsync(loader.ModelName, version, ct);
        if (found is null)
        {
            return TypedResults.NotFound();
        }
        using var card = JsonDocument.Parse(found.CardJson);
        return TypedResults.Ok(new ModelDetailResponse(AsResponse(found, host), card.RootElement.Clone()));
    }

    private static async Task<Results<Ok<ServingResponse>, NotFound>> PromoteAsync(
        int version, HttpRequest http, ChampionMoves moves, IOptions<ServerOptions> options, HttpContext context, CancellationToken ct)
    {
        var request = await JsonBody.ReadAsync<PromoteRequest>(http, options.Value.MaxJsonBodyBytes, ct, optional: true);
        return AsServing(await moves.PromoteAsync(version, context.AuditActor(), request?.Reason, ct));
    }

    // "No previous champion" is a RegistryException, answered 409 by the one exception handler.
    private static async Task<Results<Ok<ServingResponse>, NotFound>> RollbackAsync(
        HttpRequest http, ChampionMoves moves, IOptions<ServerOptions> options, HttpContext context, CancellationToken ct)
    {
        var request = await JsonBody.ReadAsync<RollbackRequest>(http, options.Value.MaxJsonBodyBytes, ct, optional: true);
        return AsServing(await moves.RollbackAsync(request?.ToVersion, context.AuditActor(), request?.Reason, ct));
    }

    private static Results<Ok<ServingResponse>, NotFound> AsServing(ServingModel? serving) => serving is null
        ? TypedResults.NotFound()
        : TypedResults.Ok(new ServingResponse(serving.Name, serving.Version, ModelAliases.Champion, serving.LoadedAt));

    private static ModelVersionResponse AsResponse(ModelVersionInfo v, ModelHost host) =>
        new(v.ModelName, v.Version, v.Aliases, host.Current is { } s && s.Version == v.Version && s.Name == v.ModelName,
            v.CreatedAt, v.CreatedBy, v.Sha256, v.SizeBytes, v.RunId);
}
