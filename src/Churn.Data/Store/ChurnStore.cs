using Churn.Data.Backup;
using Churn.Data.Mlflow;
using Churn.Data.Registry;
using Churn.Data.Tracking;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Churn.Data.Store;

/// <summary>
/// The store opened on one data directory: the composition of run tracking, the registry and the MLflow mirror
/// for callers without a service container (the CLI, tests). The server uses <see cref="StoreServiceCollectionExtensions.AddChurnStore"/>.
/// </summary>
public sealed class ChurnStore : IDisposable
{
    private ChurnStore(StoreFactory contexts, MlflowOptions mlflow, TimeProvider time, ILoggerFactory loggers)
    {
        Contexts = contexts;
        var outbox = new MlflowOutbox(mlflow);
        Runs = new RunTracker(contexts, outbox, time);
        Registry = new ModelRegistry(contexts, outbox, time, loggers.CreateLogger<ModelRegistry>());
        Mirror = new MlflowMirror(contexts, mlflow, time, loggers.CreateLogger<MlflowMirror>());
        Backup = new BackupService(contexts, time);
    }

    public string DataDir => Contexts.DataDir;

    public StoreFactory Contexts { get; }

    public RunTracker Runs { get; }

    public ModelRegistry Registry { get; }

    public MlflowMirror Mirror { get; }

    public BackupService Backup { get; }

    /// <summary>
    /// Opens (creating and migrating when needed) the store of <paramref name="dataDir"/>. Options default to the data
    /// directory's configuration (<see cref="StoreConfiguration"/>): SQLite in <c>churn.db</c>, no MLflow.
    /// </summary>
    public static async Task<ChurnStore> OpenAsync(
        string dataDir,
        StoreOptions? store = null,
        MlflowOptions? mlflow = null,
        TimeProvider? time = null,
        ILoggerFactory? loggers = null,
        CancellationToken cancellationToken = default)
    {
        if (store is null || mlflow is null)
        {
            var configured = StoreConfiguration.Load(dataDir);
            store ??= configured.Store;
            mlflow ??= configured.Mlflow;
        }
        var contexts = new StoreFactory(store, dataDir);
        await contexts.MigrateAsync(cancellationToken);
        return new ChurnStore(contexts, mlflow, time ?? TimeProvider.System, loggers ?? NullLoggerFactory.Instance);
    }

    public ChurnDbContext CreateDbContext() => Contexts.CreateDbContext();

    public void Dispose() => Mirror.Dispose();
}

public static class StoreServiceCollectionExtensions
{
    /// <summary>Registers the store, run tracking, the registry and the MLflow mirror as singletons over one data directory.</summary>
    public static IServiceCollection AddChurnStore(this IServiceCollection services, string dataDir, StoreOptions store, MlflowOptions mlflow)
    {
        services.AddSingleton(store);
        services.AddSingleton(mlflow);
        services.AddSingleton(sp => new StoreFactory(store, dataDir, sp.GetService<ILoggerFactory>()));
        services.AddSingleton<IDbContextFactory<ChurnDbContext>>(sp => sp.GetRequiredService<StoreFactory>());
        services.AddScoped(sp => sp.GetRequiredService<StoreFactory>().CreateDbContext());
        services.AddSingleton<MlflowOutbox>();
        services.AddSingleton(sp => new RunTracker(sp.GetRequiredService<StoreFactory>(), sp.GetRequiredService<MlflowOutbox>(), sp.GetService<TimeProvider>() ?? TimeProvider.System));
        services.AddSingleton(sp => new ModelRegistry(
            sp.GetRequiredService<StoreFactory>(),
            sp.GetRequiredService<MlflowOutbox>(),
            sp.GetService<TimeProvider>() ?? TimeProvider.System,
            sp.GetService<ILogger<ModelRegistry>>()));
        services.AddSingleton(sp => new MlflowMirror(
            sp.GetRequiredService<StoreFactory>(),
            mlflow,
            sp.GetService<TimeProvider>() ?? TimeProvider.System,
            sp.GetService<ILogger<MlflowMirror>>()));
        services.AddSingleton(sp => new BackupService(sp.GetRequiredService<StoreFactory>(), sp.GetService<TimeProvider>() ?? TimeProvider.System));
        return services;
    }
}
