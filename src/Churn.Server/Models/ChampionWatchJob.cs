using Churn.Data;
using Churn.Data.Registry;

namespace Churn.Server.Models;

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
