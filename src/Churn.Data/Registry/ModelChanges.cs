using Churn.Data.Security;
using Churn.Data.Tracking;

namespace Churn.Data.Registry;

/// <summary>
/// The changes to the registry that people make (register, promote, roll back), each verified and audited the same
/// whichever host makes it: the API and the dashboard pass a <see cref="ChampionSwap"/> that loads the target first, the
/// <c>churn</c> command moves the alias directly. The target's package must still hash to its registered SHA-256 before
/// an alias points at it.
/// </summary>
public sealed class ModelChanges(ModelRegistry registry, RunTracker runs, AuditLog audit)
{
    /// <summary>
    /// Registers <paramref name="packageFile"/> (copied into the data directory) as the next version of
    /// <paramref name="modelName"/>, recorded as a run, and optionally promotes it to champion.
    /// </summary>
    /// <exception cref="StoreException">The name is not valid or the file cannot be registered; the run is marked failed.</exception>
    public async Task<ModelVersionInfo> RegisterAsync(
        string modelName, string packageFile, string cardJson, bool promote, AuditActor by, CancellationToken cancellationToken)
    {
        var run = await runs.StartAsync(modelName, parameters: new Dictionary<string, string> { ["source"] = packageFile }, cancellationToken: cancellationToken);
        ModelVersionInfo info;
        try
        {
            info = await RegisterRunAsync(modelName, run, packageFile, cardJson, by, cancellationToken);
            await runs.FinishAsync(run, new Dictionary<string, double>(), new Dictionary<string, string> { ["model"] = info.PackagePath }, cancellationToken);
        }
        catch (Exception ex) when (ex is StoreException or IOException)
        {
            await runs.FailAsync(run, ex.Message, CancellationToken.None);
            throw;
        }
        if (promote)
        {
            await PromoteAsync(modelName, info.Version, ModelAliases.Champion, by, "registered with --promote", cancellationToken);
        }
        return await registry.GetVersionAsync(modelName, info.Version, cancellationToken) ?? info;
    }

    /// <summary>
    /// Registers the package <paramref name="packageFile"/> produced by run <paramref name="runId"/> as the next version
    /// of <paramref name="modelName"/> and audits it (what every training and <see cref="RegisterAsync"/> go through).
    /// </summary>
    public async Task<ModelVersionInfo> RegisterRunAsync(
        string modelName, Guid runId, string packageFile, string cardJson, AuditActor by, CancellationToken cancellationToken)
    {
        var info = await registry.RegisterAsync(modelName, runId, packageFile, cardJson, by.Name, cancellationToken);
        await audit.RecordAsync(by, "model.register", $"{modelName}:v{info.Version}", new { runId, info.Sha256 });
        return info;
    }

    /// <summary>
    /// Points <paramref name="alias"/> at <paramref name="version"/> once its package is verified; null when the version
    /// does not exist. A champion move goes through <paramref name="swap"/> when the host gives one; <paramref name="details"/>
    /// replaces the audit entry's default details (alias and reason) when the caller knows more (a retraining's figures).
    /// </summary>
    /// <exception cref="ModelIntegrityException">The package is missing or does not hash to its registered SHA-256.</exception>
    public async Task<AliasInfo?> PromoteAsync(
        string modelName, int version, string alias, AuditActor by, string? reason, CancellationToken cancellationToken, ChampionSwap? swap = null, object? details = null)
    {
        alias = ModelAliases.Validate(alias);
        if (await registry.GetVersionAsync(modelName, version, cancellationToken) is not { } target)
        {
            return null;
        }
        registry.PackagePath(target, verifySha256: true);
        AliasInfo? moved = null;
        async Task Move(CancellationToken token) =>
            moved = await registry.PromoteAsync(modelName, version, alias, by.Name, reason ?? "promote", token);
        await (alias == ModelAliases.Champion && swap is not null ? swap(target, Move, cancellationToken) : Move(cancellationToken));
        await audit.RecordAsync(by, alias == ModelAliases.Champion ? "model.promote" : $"model.promote.{alias}", $"{modelName}:v{version}", details ?? new { alias, reason });
        return moved;
    }

    /// <summary>
    /// Moves the champion back to <paramref name="toVersion"/>, or when null to the version that was champion before the
    /// current one, once its package is verified; null when <paramref name="toVersion"/> does not exist.
    /// </summary>
    /// <exception cref="RegistryException">There is no champion, or no previous champion to go back to.</exception>
    /// <exception cref="ModelIntegrityException">The package is missing or does not hash to its registered SHA-256.</exception>
    public async Task<AliasInfo?> RollbackAsync(
        string modelName, int? toVersion, AuditActor by, string? reason, CancellationToken cancellationToken, ChampionSwap? swap = null)
    {
        var version = toVersion ?? await registry.PreviousChampionAsync(modelName, cancellationToken);
        if (await registry.GetVersionAsync(modelName, version, cancellationToken) is not { } target)
        {
            return null;
        }
        registry.PackagePath(target, verifySha256: true);
        AliasInfo? moved = null;
        async Task Move(CancellationToken token) =>
            moved = await registry.RollbackAsync(modelName, version, by.Name, reason ?? "rollback", token);
        await (swap is not null ? swap(target, Move, cancellationToken) : Move(cancellationToken));
        await audit.RecordAsync(by, "model.rollback", $"{modelName}:v{version}", new { reason });
        return moved;
    }
}
