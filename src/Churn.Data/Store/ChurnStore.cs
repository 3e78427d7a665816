using Churn.Data.Backup;
using Churn.Data.Mlflow;
using Churn.Data.Registry;
using Churn.Data.Retraining;
using Churn.Data.Security;
using Churn.Data.Settings;
using Churn.Data.Tracking;
using Microsoft.Extensions.Logging.Abstractions;

namespace Churn.Data.Store;

/// <summary>
/// The store opened on one data directory, composed for callers without a service container (the <c>churn</c> command,
/// tests): run tracking, the registry and the MLflow mirror, and the application's changes over them (audited registry
/// changes, API keys, the training lock, retraining), the same classes the server registers in its container.
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
        Audit = new AuditLog(contexts, time);
        Changes = new ModelChanges(Registry, Runs, Audit);
        Keys = new ApiKeyStore(contexts, Audit, time);
        TrainingLock = new TrainingLock(new StoreLock(contexts, time), loggers.CreateLogger<TrainingLock>());
        Retrainer = new Retrainer(Runs, Registry, Changes, TrainingLock, Audit, contexts, time);
    }

    public string DataDir => Contexts.DataDir;

    public StoreFactory Contexts { get; }

    public RunTracker Runs { get; }

    public ModelRegistry Registry { get; }

    public MlflowMirror Mirror { get; }

    public BackupService Backup { get; }

    /// <summary>The one audit writer.</summary>
    public AuditLog Audit { get; }

    /// <summary>Register, promote and roll back, verified and audited.</summary>
    public ModelChanges Changes { get; }

    /// <summary>API keys, created and revoked with an audit entry.</summary>
    public ApiKeyStore Keys { get; }

    /// <summary>The one-training-at-a-time lock every server and command on this store honours.</summary>
    public TrainingLock TrainingLock { get; }

    public Retrainer Retrainer { get; }

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
