namespace Churn.Server.Coordination;

/// <summary>
/// What replicas of one deployment agree on: named locks with an expiry (the leader lease) and
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
    /// <summary>The replica holding this lease runs the monitoring, retention and scheduled-retrain jobs.</summary>
    public const string LeaderLease = "leader";

    /// <summary>Held while a starting replica makes sure the shared key ring has a key (<see cref="KeyRingBootstrap"/>).</summary>
    public const string KeyRingLock = "key-ring";

    /// <summary>The champion alias moved: reload it now rather than at the next poll.</summary>
    public const string ChampionMoved = "champion";

    /// <summary>Runtime settings changed through <c>PUT /config</c> or the dashboard: read them again from the store.</summary>
    public const string SettingsChanged = "settings";

    /// <summary>An API key was revoked: forget cached keys so it stops working everywhere at once.</summary>
    public const string KeyRevoked = "keys";
}
