using Churn.Data.Settings;
using Churn.Server.Models;
using Microsoft.Extensions.DependencyInjection.Extensions;
using StackExchange.Redis;

namespace Churn.Server.Coordination;

/// <summary>The Redis connection when <c>Churn:Redis</c> is set; null on a single node.</summary>
public sealed class RedisConnection : IDisposable
{
    public RedisConnection(IOptions<ServerOptions> options, ILogger<RedisConnection> log)
    {
        if (string.IsNullOrWhiteSpace(options.Value.Redis))
        {
            return;
        }
        var configuration = ConfigurationOptions.Parse(options.Value.Redis);
        // Start even when Redis is down and keep reconnecting; fail commands at once while it is away rather than
        // queueing them, so a request waiting on a rate-limit counter is never held for the whole timeout.
        configuration.AbortOnConnectFail = false;
        configuration.BacklogPolicy = BacklogPolicy.FailFast;
        configuration.ClientName ??= options.Value.InstanceId;
        Multiplexer = ConnectionMultiplexer.Connect(configuration);
        if (!Multiplexer.IsConnected)
        {
            log.LogWarning("Redis ({Endpoints}) does not answer yet; serving goes on, rate limits fail open and locks fall back to retrying until it does.",
                string.Join(", ", configuration.EndPoints));
        }
    }

    public IConnectionMultiplexer? Multiplexer { get; }

    public void Dispose() => Multiplexer?.Dispose();
}

/// <summary>
/// Carries this replica's changes to the others and theirs to it: a champion moved here is announced and every replica
/// loads it at once (the alias poll stays as the fallback); settings changed here are read again by every replica; a
/// revoked key is forgotten by every replica's key cache. Subscribing is retried until Redis answers.
/// </summary>
public sealed class ClusterNotificationsJob(
    ICoordinator coordinator,
    ModelLoader loader,
    RuntimeSettings settings,
    ApiKeyStore keys,
    ILogger<ClusterNotificationsJob> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        loader.ChampionMoved += model => Publish(CoordinationNames.ChampionMoved, $"{model.Name}:{model.Version}");
        settings.Updated += () => Publish(CoordinationNames.SettingsChanged, "");
        keys.Revoked += hash => Publish(CoordinationNames.KeyRevoked, hash);
        var pending = new List<(string Topic, Func<string, Task> Handler)>
        {
            (CoordinationNames.ChampionMoved, async _ => await loader.ActivateChampionAsync(stoppingToken)),
            (CoordinationNames.SettingsChanged, _ => settings.LoadStoredAsync(stoppingToken)),
            (CoordinationNames.KeyRevoked, hash =>
            {
                keys.Forget(hash);
                return Task.CompletedTask;
            }),
        };
        while (pending.Count > 0)
        {
            foreach (var subscription in pending.ToList())
            {
                try
                {
                    await coordinator.SubscribeAsync(subscription.Topic, subscription.Handler);
                    pending.Remove(subscription);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    log.LogWarning(ex, "Could not subscribe to {Topic} notifications yet; retrying.", subscription.Topic);
                }
            }
            if (pending.Count > 0)
            {
                await Task.Delay(TimeSpan.FromSeconds(5), stoppingToken);
            }
        }
    }

    private void Publish(string topic, string message) => _ = PublishAsync(topic, message);

    private async Task PublishAsync(string topic, string message)
    {
        try
        {
            await coordinator.PublishAsync(topic, message);
        }
        catch (Exception ex)
        {
            // The others still follow the champion by polling the alias; settings and keys catch up at their next reload.
            log.LogWarning(ex, "Could not announce {Topic} to the other replicas.", topic);
        }
    }
}

public static class ScaleOut
{
    public const string InstanceHeader = "X-Churn-Instance";

    /// <summary>
    /// Registers coordination between replicas: Redis when <c>Churn:Redis</c> is set, the store and this process
    /// otherwise; the leader election; the change notifications. Registered after the champion start-up, whose store
    /// migration the leader lease needs. The dashboard's key ring goes with them (<see cref="KeyRing"/>).
    /// </summary>
    public static IHostApplicationBuilder AddScaleOut(this IHostApplicationBuilder builder)
    {
        builder.Services.TryAddSingleton<StoreLock>();
        builder.Services.AddSingleton<RedisConnection>();
        builder.Services.AddSingleton<RedisLimiterWarnings>();
        builder.Services.AddSingleton<ICoordinator>(sp => sp.GetRequiredService<RedisConnection>().Multiplexer is { } redis
            ? new RedisCoordinator(redis, sp.GetRequiredService<ILogger<RedisCoordinator>>())
            : new StoreCoordinator(sp.GetRequiredService<StoreLock>()));
        builder.Services.AddHostedSingleton<LeaderElection>();
        builder.Services.AddHostedService<ClusterNotificationsJob>();
        builder.AddKeyRing();
        return builder;
    }

    /// <summary>Names the replica that answered on every response (<c>X-Churn-Instance</c>), for operators and load-balancer checks.</summary>
    public static IApplicationBuilder UseInstanceHeader(this IApplicationBuilder app)
    {
        var instance = app.ApplicationServices.GetRequiredService<IOptions<ServerOptions>>().Value.InstanceId;
        return app.Use((context, next) =>
        {
            // Added as the response starts, so error responses written after the headers were cleared carry it too.
            context.Response.OnStarting(() =>
            {
                context.Response.Headers[InstanceHeader] = instance;
                return Task.CompletedTask;
            });
            return next(context);
        });
    }
}
