using System.Runtime.CompilerServices;
using Churn.Data.Settings;
using Churn.Server.Models;
using Microsoft.Extensions.DependencyInjection.Extensions;
using StackExchange.Redis;

namespace Churn.Server.Coordination;

/// <summary>
/// The Redis connection when <c>Churn:Redis</c> is set; none on a single node. Code that runs on a single node too asks
/// <see cref="Configured"/> and goes through <see cref="RedisParts"/> for the rest: compiling a method loads the
/// assemblies its code names, and a single node never loads the Redis client's (bench/NOTES.md, 2026-12-02 third session).
/// </summary>
internal sealed class RedisConnection : IDisposable
{
    // Typed as object so that reading it names no Redis type; it holds an IConnectionMultiplexer.
    private readonly object? multiplexer;

    public RedisConnection(IOptions<ServerOptions> options, ILogger<RedisConnection> log)
    {
        if (!string.IsNullOrWhiteSpace(options.Value.Redis))
        {
            multiplexer = Connect(options.Value, log);
        }
    }

    /// <summary>Whether <c>Churn:Redis</c> is set, so that <see cref="Multiplexer"/> is there.</summary>
    public bool Configured => multiplexer is not null;

    public IConnectionMultiplexer? Multiplexer => (IConnectionMultiplexer?)multiplexer;

    // Returns object, as the field holds it: a call whose signature names a Redis type loads the assembly too.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static object Connect(ServerOptions options, ILogger<RedisConnection> log)
    {
        var configuration = ConfigurationOptions.Parse(options.Redis!);
        // Start even when Redis is down and keep reconnecting; fail commands at once while it is away rather than
        // queueing them, so a request waiting on a rate-limit counter is never held for the whole timeout.
        configuration.AbortOnConnectFail = false;
        configuration.BacklogPolicy = BacklogPolicy.FailFast;
        configuration.ClientName ??= options.InstanceId;
        var connected = ConnectionMultiplexer.Connect(configuration);
        if (!connected.IsConnected)
        {
            log.LogWarning("Redis ({Endpoints}) does not answer yet; serving goes on, rate limits fail open and locks fall back to retrying until it does.",
                string.Join(", ", configuration.EndPoints));
        }
        return connected;
    }

    public void Dispose() => (multiplexer as IDisposable)?.Dispose();
}

/// <summary>
/// Carries this replica's changes to the others and theirs to it: a champion moved here is announced and every replica
/// loads it at once (the alias poll stays as the fallback); settings changed here are read again by every replica; a
/// revoked key is forgotten by every replica's key cache. Subscribing is retried until Redis answers.
/// </summary>
internal sealed class ClusterNotificationsJob(
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
        builder.Services.AddSingleton<ICoordinator>(sp => sp.GetRequiredService<RedisConnection>().Configured
            ? RedisParts.Coordinator(sp)
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
