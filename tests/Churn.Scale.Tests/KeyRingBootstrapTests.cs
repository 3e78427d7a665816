using Churn.Server.Coordination;
using Churn.Server.Hosting;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Churn.Scale.Tests;

/// <summary>
/// Two replicas starting at the same moment on an empty key ring in a real Redis, each as its server starts:
/// <see cref="KeyRingBootstrap"/>, then the ring's first use. Without the bootstrap both found the ring empty and each
/// made a key, and each cached a ring holding only its own (19 of 20 rounds ended with two keys).
/// </summary>
public sealed class KeyRingBootstrapTests : IAsyncLifetime
{
    private const int Rounds = 20;
    private readonly TestRedis redis = new();
    private ConnectionMultiplexer multiplexer = null!;

    public async Task InitializeAsync()
    {
        await redis.StartAsync();
        multiplexer = await ConnectionMultiplexer.ConnectAsync(redis.Configuration);
    }

    public async Task DisposeAsync()
    {
        await multiplexer.DisposeAsync();
        await redis.DisposeAsync();
    }

    [Fact]
    public async Task ReplicasStartingTogetherOnAnEmptyRingMakeOneKeyBetweenThem()
    {
        var counts = new List<long>();
        for (var round = 0; round < Rounds; round++)
        {
            var ring = $"churn:test-key-ring-{round}";
            await using var a = Replica(ring, "replica-a");
            await using var b = Replica(ring, "replica-b");
            using var together = new Barrier(2);

            await Task.WhenAll(new[] { a, b }.Select(replica => Task.Run(async () =>
            {
                together.SignalAndWait();
                foreach (var service in replica.GetServices<IHostedService>())
                {
                    await service.StartAsync(CancellationToken.None);
                }
                // The ring's first use, as the preload or the first sign-in page makes it.
                _ = replica.GetRequiredService<IDataProtectionProvider>().CreateProtector("test").Protect("payload");
            })));

            counts.Add(await multiplexer.GetDatabase().ListLengthAsync(ring));
        }

        Assert.All(counts, count => Assert.Equal(1, count));
    }

    private ServiceProvider Replica(string ring, string instance)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(Options.Create(new ServerOptions { InstanceId = instance }));
        services.AddSingleton<ICoordinator>(new RedisCoordinator(multiplexer, NullLogger<RedisCoordinator>.Instance));
        // Before data protection's own hosted service, which loads the ring, as the server orders them (KeyRing.AddKeyRing).
        services.AddHostedService<KeyRingBootstrap>();
        services.AddDataProtection().SetApplicationName("churn").PersistKeysToStackExchangeRedis(multiplexer, ring);
        return services.BuildServiceProvider();
    }
}
