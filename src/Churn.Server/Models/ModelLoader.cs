using Churn.Core.Models;
using Churn.Core.Scoring;
using Churn.Data;
using Churn.Data.Registry;

namespace Churn.Server.Models;

/// <summary>Loads registered versions into warmed-up scorers and makes the champion the serving model.</summary>
public sealed class ModelLoader(
    ModelRegistry registry,
    ModelHost host,
    IOptions<ServerOptions> options,
    TimeProvider time,
    ILogger<ModelLoader> log)
{
    private readonly SemaphoreSlim gate = new(1, 1);

    public string ModelName => options.Value.ModelName;

    /// <summary>Raised after this process moved the champion alias and serves the new version (promote, rollback, retraining).</summary>
    public event Action<ServingModel>? ChampionMoved;

    /// <summary>Loads and warms a version without serving it; a corrupt or missing package throws and changes nothing.</summary>
    public async Task<ServingModel> LoadAsync(ModelVersionInfo version, CancellationToken cancellationToken)
    {
        var path = registry.PackagePath(version, verifySha256: true);
        var warmUp = options.Value.WarmUpRows;
        // Loading and warming are CPU-bound; off the caller's thread so a request thread is never held for seconds.
        var scorer = await Task.Run(() =>
        {
            var scorer = new ChurnScorer(ChurnModel.Load(path));
            scorer.WarmUp(warmUp);
            return scorer;
        }, cancellationToken);
        return new ServingModel(version.ModelName, version.Version, scorer, time.GetUtcNow());
    }

    /// <summary>Serves whatever the champion alias points at, loading it when it is not the serving version.</summary>
    public async Task<ServingModel> ActivateChampionAsync(CancellationToken cancellationToken)
    {
        await gate.WaitAsync(cancellationToken);
        try
        {
            var champion = await registry.ResolveAliasAsync(ModelName, ModelAliases.Champion, cancellationToken)
                ?? throw new RegistryException($"Model '{ModelName}' has no champion.");
            if (host.Current is { } serving && serving.Version == champion.Version && serving.Name == champion.ModelName)
            {
                return serving;
            }
            var loaded = await LoadAsync(champion, cancellationToken);
            var previous = host.Swap(loaded);
            log.LogInformation("Serving {Model} v{Version} (was v{Previous}).", loaded.Name, loaded.Version, previous?.Version);
            return loaded;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// At start: serves the champion or, when its package is missing, corrupt or unreadable, the most recent earlier
    /// champion whose package loads. The alias is left where it is, so the champion watch keeps trying the champion and
    /// serves it once its file is repaired (or another version is promoted).
    /// </summary>
    /// <exception cref="ModelIntegrityException">The champion's file is missing or altered and no earlier champion loads.</exception>
    /// <exception cref="ModelPackageException">The champion's file is not a model package and no earlier champion loads.</exception>
    public async Task<ServingModel> ActivateChampionOrPreviousAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await ActivateChampionAsync(cancellationToken);
        }
        catch (Exception problem) when (problem is ModelIntegrityException or ModelPackageException)
        {
            var champion = await registry.GetAliasAsync(ModelName, ModelAliases.Champion, cancellationToken);
            var earlier = (await registry.HistoryAsync(ModelName, ModelAliases.Champion, cancellationToken))
                .Select(h => h.Version).Reverse().Where(v => v != champion?.Version).Distinct().ToList();
            foreach (var version in earlier)
            {
                if (await registry.GetVersionAsync(ModelName, version, cancellationToken) is not { } info)
                {
                    continue;
                }
                try
                {
                    var loaded = await LoadAsync(info, cancellationToken);
                    await gate.WaitAsync(cancellationToken);
                    try
                    {
                        host.Swap(loaded);
                    }
                    finally
                    {
                        gate.Release();
                    }
                    log.LogError("The champion {Model} v{Champion} cannot be loaded: {Problem} Serving the previous champion v{Version} "
                        + "until that file is repaired or another version is promoted.", ModelName, champion?.Version, problem.Message, version);
                    return loaded;
                }
                catch (Exception other) when (other is ModelIntegrityException or ModelPackageException)
                {
                    log.LogWarning("The earlier champion {Model} v{Version} cannot be loaded either: {Problem}", ModelName, version, other.Message);
                }
            }
            throw;
        }
    }

    /// <summary>
    /// Moves the champion alias with <paramref name="move"/> after the target version has been loaded and warmed, then
    /// swaps it in: a package that cannot be loaded is refused before the alias moves, and the old model keeps serving.
    /// </summary>
    public async Task<ServingModel> MoveChampionAsync(int targetVersion, Func<CancellationToken, Task> move, CancellationToken cancellationToken)
    {
        await gate.WaitAsync(cancellationToken);
        try
        {
            var target = await registry.GetVersionAsync(ModelName, targetVersion, cancellationToken)
                ?? throw new RegistryException($"Model '{ModelName}' has no version {targetVersion}.");
            var loaded = host.Current is { } serving && serving.Version == targetVersion ? serving : await LoadAsync(target, cancellationToken);
            await move(cancellationToken);
            host.Swap(loaded);
            log.LogInformation("Champion of {Model} is now v{Version}.", loaded.Name, loaded.Version);
            ChampionMoved?.Invoke(loaded);
            return loaded;
        }
        finally
        {
            gate.Release();
        }
    }
}
