namespace Churn.Server.Coordination;

/// <summary>
/// What replicas of one deployment agree on: named locks with an expiry (the training lock, the leader lease) and
/// notifications to every replica (a model was promoted, settings changed). <see cref="StoreCoordinator"/> keeps them in
/// the store and this process (one node); <see cref="RedisCoordinator"/> keeps them in Redis when <c>Churn:Redis</c> is set.
/// </summary>
public interface ICoordinator
{
    /// <summary>Where locks and notifications live, for logs and health: "store" or "redis".</summary>
    string Kind { get; }

    /// <summary>Takes <paramref name="name"/> for <paramref name="holder"/> for <paramref name="ttl"/>; true also when the holder already has it (the expiry moves on).</summary>
    Task<bool> TryAcquireAsync(string name, string holder, TimeSpan ttl, CancellationToken cancellationToken);

    /// <summary>Extends the lock when <paramref name="holder"/> still holds it; false when it was lost (expired and taken by another).</summary>
    Task<bool> RenewAsync(string name, string holder, TimeSpan ttl, CancellationToken cancellationToken);

    /// <summary>Releases the lock if <paramref name="holder"/> still holds it; a lock taken over by another is left alone.</summary>
    Task ReleaseAsync(string name, string holder, CancellationToken cancellationToken);

    /// <summary>The current holder, or null when the lock is free.</summary>
    Task<string?> HolderAsync(string name, CancellationToken cancellationToken);

    /// <summary>Tells every other replica about <paramref name="topic"/>; best effort (replicas also poll what matters).</summary>
    Task PublishAsync(string topic, string message);

    /// <summary>Runs <paramref name="handler"/> for each notification on <paramref name="topic"/> from any replica, this one included.</summary>
    Task SubscribeAsync(string topic, Func<string, Task> handler);
}

/// <summary>Names shared by every replica: locks and notification topics.</summary>
public static class CoordinationNames
{
    /// <summary>Only one training (first model, retraining) runs at a time across replicas.</summary>
    public const string TrainingLock = "training";

    /// <summary>The replica holding this lease runs the monitoring, retention and scheduled-retrain jobs.</summary>
    public const string LeaderLease = "leader";

    /// <summary>The champion alias moved: reload it now rather than at the next poll.</summary>
    public const string ChampionMoved = "champion";

    /// <summary>Runtime settings changed through <c>PUT /config</c> or the dashboard: read them again from the store.</summary>
    public const string SettingsChanged = "settings";

    /// <summary>An API key was revoked: forget cached keys so it stops working everywhere at once.</summary>
    public const string KeyRevoked = "keys";
}

/// <summary>
/// A lock held for as long as the work it guards runs: renewed in the background every third of its time-to-live, so
/// a holder that dies loses it within <c>ttl</c> while a long training keeps it. Disposing stops renewing and releases it.
/// </summary>
public sealed class HeldLock : IAsyncDisposable
{
    private readonly ICoordinator coordinator;
    private readonly CancellationTokenSource stop = new();
    private readonly Task renewal;
    private readonly ILogger log;

    private HeldLock(ICoordinator coordinator, string name, string holder, TimeSpan ttl, ILogger log)
    {
        this.coordinator = coordinator;
        this.log = log;
        Name = name;
        Holder = holder;
        renewal = RenewAsync(ttl);
    }

    public string Name { get; }

    public string Holder { get; }

    /// <summary>False once a renewal found the lock taken by another holder (the work should not go on as if it held it).</summary>
    public bool Held { get; private set; } = true;

    /// <summary>The lock, or null when another holder has it.</summary>
    public static async Task<HeldLock?> TryTakeAsync(ICoordinator coordinator, string name, string holder, TimeSpan ttl, ILogger log, CancellationToken cancellationToken) =>
        await coordinator.TryAcquireAsync(name, holder, ttl, cancellationToken) ? new HeldLock(coordinator, name, holder, ttl, log) : null;

    private async Task RenewAsync(TimeSpan ttl)
    {
        using var timer = new PeriodicTimer(ttl / 3);
        try
        {
            while (await timer.WaitForNextTickAsync(stop.Token))
            {
                try
                {
                    if (!await coordinator.RenewAsync(Name, Holder, ttl, stop.Token))
                    {
                        Held = false;
                        log.LogError("Lost the {Lock} lock ({Holder}): it expired and another holder took it.", Name, Holder);
                        return;
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // Redis or the store may be briefly away; the lock lasts its ttl, so the next renewal can still keep it.
                    log.LogWarning(ex, "Could not renew the {Lock} lock; retrying.", Name);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        await renewal;
        stop.Dispose();
        try
        {
            await coordinator.ReleaseAsync(Name, Holder, CancellationToken.None);
        }
        catch (Exception ex)
        {
            // Not released: it expires by itself within its ttl.
            log.LogWarning(ex, "Could not release the {Lock} lock; it expires by itself.", Name);
        }
    }
}
