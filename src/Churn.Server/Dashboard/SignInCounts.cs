using Churn.Server.Coordination;
using StackExchange.Redis;

namespace Churn.Server.Dashboard;

/// <summary>
/// Where failed sign-ins are counted, shared by every replica: Redis when <c>Churn:Redis</c> is set
/// (<see cref="RedisSignInCounts"/>), the store otherwise (<see cref="StoreSignInCounts"/>); chosen once at start-up by
/// <see cref="SignInCountsRegistration.AddSignInCounts"/>. Both apply the same rule, which <see cref="SignInThrottle"/>
/// owns and passes in: a window opens at a name's first failure and lasts <c>window</c>; the failure that brings the
/// window's count to <c>limit</c> locks the name for <c>window</c> and starts the count afresh.
/// Names arrive already normalised (kind "user" or "address", key at most 200 characters).
/// </summary>
public interface ISignInCounts
{
    /// <summary>Until when <paramref name="kind"/>:<paramref name="key"/> is locked out, or null when it may sign in at <paramref name="now"/>.</summary>
    Task<DateTimeOffset?> LockedUntilAsync(string kind, string key, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Counts one failure; true when it reached <paramref name="limit"/> and so locked the name until <paramref name="now"/> + <paramref name="window"/>.</summary>
    Task<bool> CountFailureAsync(string kind, string key, int limit, TimeSpan window, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Forgets the name's failures in the current window (a lockout in force stays).</summary>
    Task ForgetFailuresAsync(string kind, string key, CancellationToken cancellationToken);

    /// <summary>Every lockout in force at <paramref name="now"/>, in no particular order.</summary>
    Task<IReadOnlyList<SignInLock>> LocksAsync(DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Ends the name's lockout and forgets its failures; false when there was nothing to forget.</summary>
    Task<bool> LiftAsync(string kind, string key, CancellationToken cancellationToken);
}

/// <summary>
/// Failed sign-ins in the store's <c>sign_in_counters</c> table, one row per name. Every change is a single conditional
/// UPDATE (or an INSERT that a unique key guards), so failures counted at the same moment on two replicas are both counted.
/// </summary>
public sealed class StoreSignInCounts(IDbContextFactory<ChurnDbContext> store) : ISignInCounts
{
    /// <summary>Every this many counted failures, this process deletes rows whose window closed and whose lockout ended.</summary>
    private const int PruneEvery = 256;

    private int counted;

    public async Task<DateTimeOffset?> LockedUntilAsync(string kind, string key, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var db = await store.CreateDbContextAsync(cancellationToken);
        return await db.SignInCounters.Where(c => c.Kind == kind && c.Key == key && c.LockedUntil > now)
            .Select(c => c.LockedUntil).FirstOrDefaultAsync(cancellationToken);
    }

    public async Task<bool> CountFailureAsync(string kind, string key, int limit, TimeSpan window, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var db = await store.CreateDbContextAsync(cancellationToken);
        for (var attempt = 0; ; attempt++)
        {
            // Count in the open window; failing that, reopen a closed one; failing that, the name is new.
            var changed = await db.SignInCounters.Where(c => c.Kind == kind && c.Key == key && c.WindowEnds > now)
                .ExecuteUpdateAsync(s => s.SetProperty(c => c.Failures, c => c.Failures + 1), cancellationToken);
            if (changed == 0)
            {
                // Conditional on the window being closed, so a second replica reopening it at the same moment changes
                // nothing here and counts in the window the first one opened.
                changed = await db.SignInCounters.Where(c => c.Kind == kind && c.Key == key && c.WindowEnds <= now)
                    .ExecuteUpdateAsync(s => s.SetProperty(c => c.Failures, 1).SetProperty(c => c.WindowEnds, now + window), cancellationToken);
            }
            if (changed == 0)
            {
                db.SignInCounters.Add(new SignInCounter { Kind = kind, Key = key, Failures = 1, WindowEnds = now + window });
                try
                {
                    await db.SaveChangesAsync(cancellationToken);
                }
                catch (DbUpdateException ex) when (attempt == 0 && !StoreOutage.Is(ex))
                {
                    // Another replica added the row first: count in its window.
                    db.ChangeTracker.Clear();
                    continue;
                }
            }
            break;
        }
        var locked = await db.SignInCounters.Where(c => c.Kind == kind && c.Key == key && c.Failures >= limit)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.LockedUntil, (DateTimeOffset?)(now + window)).SetProperty(c => c.Failures, 0), cancellationToken);
        if (Interlocked.Increment(ref counted) % PruneEvery == 0)
        {
            // A flood of distinct names would otherwise leave a row each for ever.
            await db.SignInCounters.Where(c => c.WindowEnds <= now && (c.LockedUntil == null || c.LockedUntil <= now))
                .ExecuteDeleteAsync(cancellationToken);
        }
        return locked > 0;
    }

    public async Task ForgetFailuresAsync(string kind, string key, CancellationToken cancellationToken)
    {
        await using var db = await store.CreateDbContextAsync(cancellationToken);
        await db.SignInCounters.Where(c => c.Kind == kind && c.Key == key)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.Failures, 0), cancellationToken);
    }

    public async Task<IReadOnlyList<SignInLock>> LocksAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var db = await store.CreateDbContextAsync(cancellationToken);
        var rows = await db.SignInCounters.AsNoTracking().Where(c => c.LockedUntil > now).ToListAsync(cancellationToken);
        return [.. rows.Select(c => new SignInLock(c.Kind, c.Key, c.LockedUntil!.Value))];
    }

    public async Task<bool> LiftAsync(string kind, string key, CancellationToken cancellationToken)
    {
        await using var db = await store.CreateDbContextAsync(cancellationToken);
        return await db.SignInCounters.Where(c => c.Kind == kind && c.Key == key).ExecuteDeleteAsync(cancellationToken) > 0;
    }
}

/// <summary>
/// Failed sign-ins in Redis: <c>churn:signin:fail:{kind}:{key}</c> counts the window's failures and expires when the
/// window closes; <c>churn:signin:lock:{kind}:{key}</c> is the lockout and expires when it ends.
/// </summary>
internal sealed class RedisSignInCounts(IConnectionMultiplexer redis) : ISignInCounts
{
    private const string FailPrefix = "churn:signin:fail:";
    private const string LockPrefix = "churn:signin:lock:";

    public async Task<DateTimeOffset?> LockedUntilAsync(string kind, string key, DateTimeOffset now, CancellationToken cancellationToken) =>
        await redis.GetDatabase().KeyTimeToLiveAsync(LockPrefix + Name(kind, key)) is { } ttl ? now + ttl : null;

    public async Task<bool> CountFailureAsync(string kind, string key, int limit, TimeSpan window, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var db = redis.GetDatabase();
        var failKey = FailPrefix + Name(kind, key);
        var failures = await db.StringIncrementAsync(failKey);
        if (failures == 1)
        {
            await db.KeyExpireAsync(failKey, window);
        }
        if (failures < limit)
        {
            return false;
        }
        await db.StringSetAsync(LockPrefix + Name(kind, key), "1", window);
        await db.KeyDeleteAsync(failKey);
        return true;
    }

    public Task ForgetFailuresAsync(string kind, string key, CancellationToken cancellationToken) =>
        redis.GetDatabase().KeyDeleteAsync(FailPrefix + Name(kind, key));

    public async Task<IReadOnlyList<SignInLock>> LocksAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var db = redis.GetDatabase();
        var locks = new List<SignInLock>();
        foreach (var server in redis.GetServers().Where(s => !s.IsReplica))
        {
            await foreach (var key in server.KeysAsync(pattern: LockPrefix + "*").WithCancellation(cancellationToken))
            {
                var parts = key.ToString()[LockPrefix.Length..].Split(':', 2);
                if (parts.Length == 2 && await db.KeyTimeToLiveAsync(key) is { } ttl)
                {
                    locks.Add(new SignInLock(parts[0], parts[1], now + ttl));
                }
            }
        }
        return locks;
    }

    public async Task<bool> LiftAsync(string kind, string key, CancellationToken cancellationToken) =>
        await redis.GetDatabase().KeyDeleteAsync([(RedisKey)(LockPrefix + Name(kind, key)), (RedisKey)(FailPrefix + Name(kind, key))]) > 0;

    private static string Name(string kind, string key) => $"{kind}:{key}";
}

/// <summary>Registers the sign-in counts: Redis when <c>Churn:Redis</c> is set, the store otherwise.</summary>
public static class SignInCountsRegistration
{
    /// <summary>Adds <see cref="ISignInCounts"/> (chosen once, from the configuration) and <see cref="StoreSignInCounts"/>, its fallback while Redis is away.</summary>
    public static IServiceCollection AddSignInCounts(this IServiceCollection services)
    {
        services.AddSingleton<StoreSignInCounts>();
        services.AddSingleton<ISignInCounts>(sp => sp.GetRequiredService<RedisConnection>().Configured
            ? RedisParts.SignInCounts(sp)
            : sp.GetRequiredService<StoreSignInCounts>());
        return services;
    }
}
