using Churn.Data;
using Churn.Data.Registry;
using Churn.Data.Store;
using Churn.Data.Tracking;
using Churn.Server.Coordination;
using Churn.Server.Hosting;
using Churn.Server.Security;
using Churn.Server.Settings;
using Microsoft.Extensions.Options;

namespace Churn.Server.Models;

/// <summary>What start-up wants the operator to see once (the banner prints it).</summary>
public sealed class StartupNotes
{
    /// <summary>The admin key generated at first start; null when it came from configuration or already existed.</summary>
    public string? GeneratedAdminKey { get; set; }

    public bool TrainedFirstModel { get; set; }

    /// <summary>The dashboard admin's name and, when it was generated at this start, its password.</summary>
    public string? DashboardAdminUser { get; set; }

    public string? GeneratedAdminPassword { get; set; }
}

/// <summary>
/// Brings the server to ready before Kestrel starts listening (hosted services start before the server):
/// migrates the store, trains and promotes a first champion on generated data when there is none, loads and warms
/// the champion, applies stored settings and makes sure an admin key exists.
/// </summary>
public sealed class ChampionStartup(
    StoreFactory store,
    RunTracker runs,
    ModelRegistry registry,
    ModelTraining training,
    TrainingLock trainingLock,
    ModelLoader loader,
    RuntimeSettings settings,
    ApiKeyStore keys,
    StartupNotes notes,
    IOptions<ServerOptions> options,
    ILogger<ChampionStartup> log) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        await store.MigrateAsync(cancellationToken);
        // A process killed mid-training leaves its run "running" and perhaps a half-registered folder: settle both first.
        if (await runs.FailAbandonedAsync(o.DataDir, cancellationToken) is > 0 and var abandoned)
        {
            log.LogWarning("Marked {Count} training run(s) failed: the process running them stopped before they finished.", abandoned);
        }
        await registry.CleanOrphansAsync(cancellationToken);
        await settings.LoadStoredAsync(cancellationToken);
        while (await registry.GetAliasAsync(o.ModelName, ModelAliases.Champion, cancellationToken) is null)
        {
            // Replicas starting together on an empty store: the one holding the training lock trains the first model,
            // the others wait for its champion instead of each promoting one of their own.
            await using var held = await trainingLock.TryTakeAsync("first-model", cancellationToken);
            if (held is null)
            {
                log.LogInformation("Waiting for the first model: {Holder} is training.", await trainingLock.HolderAsync(cancellationToken));
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
                continue;
            }
            if (await registry.GetAliasAsync(o.ModelName, ModelAliases.Champion, cancellationToken) is not null)
            {
                break;
            }
            log.LogInformation("No champion for {Model}: training a first model on {Rows} generated customers (seed {Seed}).", o.ModelName, o.SampleRows, o.SampleSeed);
            var version = await training.TrainAndRegisterAsync(new TrainingRequest(o.SampleRows, o.SampleSeed, 0), RunTrigger.User, "churn serve", null, cancellationToken);
            await registry.PromoteAsync(o.ModelName, version.Version, ModelAliases.Champion, "churn serve", "first model", cancellationToken);
            notes.TrainedFirstModel = true;
        }
        await loader.ActivateChampionOrPreviousAsync(cancellationToken);
        notes.GeneratedAdminKey = await keys.EnsureAdminAsync(o.AdminKey, cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Follows champion moves made by other processes (the CLI, another replica) by polling the alias.</summary>
public sealed class ChampionWatchJob(ModelLoader loader, ModelHost host, ModelRegistry registry, IOptions<ServerOptions> options, TimeProvider time, ILogger<ChampionWatchJob> log)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.ChampionPollInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                var alias = await registry.GetAliasAsync(loader.ModelName, ModelAliases.Champion, stoppingToken);
                if (alias is not null && host.Current?.Version != alias.Version)
                {
                    await loader.ActivateChampionAsync(stoppingToken);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The store may be briefly down or the new package unreadable; the current model keeps serving.
                log.LogWarning(ex, "Could not follow the champion alias; still serving v{Version}.", host.Current?.Version);
            }
        }
    }
}

public static class ModelHosting
{
    public static IHostApplicationBuilder AddModelHosting(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ModelHost>();
        builder.Services.AddSingleton<ModelLoader>();
        builder.Services.AddSingleton<ModelTraining>();
        builder.Services.AddSingleton<ChampionMoves>();
        builder.Services.AddSingleton<StartupNotes>();
        builder.Services.AddHostedService<ChampionStartup>();
        builder.Services.AddHostedService<ChampionWatchJob>();
        return builder;
    }
}
