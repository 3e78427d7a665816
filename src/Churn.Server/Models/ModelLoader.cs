using Churn.Core.Models;
using Churn.Core.Scoring;
using Churn.Data;
using Churn.Data.Registry;
using Churn.Server.Hosting;
using Microsoft.Extensions.Options;

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
