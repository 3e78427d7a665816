using Churn.Data.Registry;
using Churn.Data.Tracking;

namespace Churn.Server.Models;

/// <summary>
/// The first start-up step, before anything reads the store: migrates it, settles what a process killed mid-training
/// left behind (its run still "running", perhaps a half-registered model folder) and applies the settings stored by
/// <c>PUT /config</c> or the dashboard over the configured ones.
/// </summary>
public sealed class StoreStartup(
    StoreFactory store, RunTracker runs, ModelRegistry registry, RuntimeSettings settings, IOptions<ServerOptions> options, ILogger<StoreStartup> log)
    : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await store.MigrateAsync(cancellationToken);
        if (await runs.FailAbandonedAsync(options.Value.DataDir, cancellationToken) is > 0 and var abandoned)
        {
            log.LogWarning("Marked {Count} training run(s) failed: the process running them stopped before they finished.", abandoned);
        }
        await registry.CleanOrphansAsync(cancellationToken);
        await settings.LoadStoredAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
