using Churn.Data;
using Churn.Data.Registry;

namespace Churn.Server.Models;

/// <summary>
/// Promote and rollback of the champion for the API and the dashboard: the audited, verified change of
/// <see cref="ModelChanges"/>, with the target version loaded and warmed before the alias moves, then swapped in.
/// </summary>
public sealed class ChampionMoves(ModelChanges changes, ModelLoader loader)
{
    /// <summary>The model now serving, or null when the version does not exist.</summary>
    public async Task<ServingModel?> PromoteAsync(int version, AuditActor by, string? reason, CancellationToken ct)
    {
        ServingModel? serving = null;
        var moved = await changes.PromoteAsync(loader.ModelName, version, ModelAliases.Champion, by, reason ?? "promoted through the API", ct,
            async (target, move, token) => serving = await loader.MoveChampionAsync(target.Version, move, token));
        return moved is null ? null : serving;
    }

    /// <summary>
    /// Moves the champion back to the previous champion, or to <paramref name="toVersion"/>; the model now serving, or
    /// null when <paramref name="toVersion"/> does not exist.
    /// </summary>
    /// <exception cref="RegistryException">There is no previous champion.</exception>
    public async Task<ServingModel?> RollbackAsync(int? toVersion, AuditActor by, string? reason, CancellationToken ct)
    {
        ServingModel? serving = null;
        var moved = await changes.RollbackAsync(loader.ModelName, toVersion, by, reason ?? "rolled back through the API", ct,
            async (target, move, token) => serving = await loader.MoveChampionAsync(target.Version, move, token));
        return moved is null ? null : serving;
    }
}
