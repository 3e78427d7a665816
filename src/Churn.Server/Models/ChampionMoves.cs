using Churn.Data;
using Churn.Data.Registry;
using Churn.Server.Security;

namespace Churn.Server.Models;

/// <summary>The outcome of a promote or rollback: the model now serving, or why nothing moved.</summary>
public sealed record ChampionMoveResult(ServingModel? Serving, bool NotFound = false, string? Conflict = null, string? ConflictDetail = null);

/// <summary>
/// Promote and rollback of the champion, audited, for every caller (the API, the dashboard): the target version is
/// loaded and warmed before the alias moves, then swapped in.
/// </summary>
public sealed class ChampionMoves(ModelRegistry registry, ModelLoader loader, ModelHost host, AuditLog audit)
{
    public async Task<ChampionMoveResult> PromoteAsync(int version, string actor, string? clientAddress, string? reason, CancellationToken ct)
    {
        if (await registry.GetVersionAsync(loader.ModelName, version, ct) is null)
        {
            return new ChampionMoveResult(null, NotFound: true);
        }
        var serving = await loader.MoveChampionAsync(version,
            token => registry.PromoteAsync(loader.ModelName, version, ModelAliases.Champion, actor, reason ?? "promoted through the API", token), ct);
        await audit.RecordAsync(actor, "model.promote", $"{loader.ModelName}:v{version}", new { Reason = reason }, clientAddress);
        return new ChampionMoveResult(serving);
    }

    /// <summary>Moves the champion back to the previous champion, or to <paramref name="toVersion"/>.</summary>
    public async Task<ChampionMoveResult> RollbackAsync(int? toVersion, string actor, string? clientAddress, string? reason, CancellationToken ct)
    {
        var target = toVersion;
        if (target is null)
        {
            var current = host.Require().Version;
            var history = await registry.HistoryAsync(loader.ModelName, ModelAliases.Champion, ct);
            target = history.Where(h => h.ValidTo is not null && h.Version != current).Select(h => (int?)h.Version).LastOrDefault();
            if (target is null)
            {
                return new ChampionMoveResult(null, Conflict: "There is no previous champion.",
                    ConflictDetail: $"{loader.ModelName} v{current} is the only version that has been champion.");
            }
        }
        else if (await registry.GetVersionAsync(loader.ModelName, target.Value, ct) is null)
        {
            return new ChampionMoveResult(null, NotFound: true);
        }
        var serving = await loader.MoveChampionAsync(target.Value,
            token => registry.RollbackAsync(loader.ModelName, target, actor, reason ?? "rolled back through the API", token), ct);
        await audit.RecordAsync(actor, "model.rollback", $"{loader.ModelName}:v{target}", new { Reason = reason }, clientAddress);
        return new ChampionMoveResult(serving);
    }
}
