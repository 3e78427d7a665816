using Churn.Server.Coordination;
using StackExchange.Redis;

namespace Churn.Server.Dashboard;

/// <summary>A user name or client address that may not sign in until <see cref="Until"/>.</summary>
public sealed record SignInLock(string Kind, string Key, DateTimeOffset Until);

/// <summary>
/// Locks out password guessing on the dashboard's sign-in form: after <see cref="DashboardOptions.FailuresPerUser"/>
/// failures for one user name, or <see cref="DashboardOptions.FailuresPerAddress"/> from one client address, within
/// <see cref="DashboardOptions.Lockout"/>, further attempts are refused without checking the password until the lockout ends.
/// Unknown user names are counted like known ones, so a lockout does not reveal who exists.
/// With <c>Churn:Redis</c> the counts and lockouts live in Redis (<c>churn:signin:*</c>), so every replica draws on the
/// same allowance and a guesser spread over N replicas gets no more attempts than against one; when Redis does not
/// answer, this process's own counts are used until it does. Without Redis they live in this process.
/// REVIEW: without Redis, several replicas each keep their own counts (the store is not used for them).
/// </summary>
public sealed class SignInThrottle(IOptions<DashboardOptions> options, TimeProvider time, ILogger<SignInThrottle> log, RedisConnection? redis = null)
{
    private const string FailPrefix = "churn:signin:fail:";
    private const string LockPrefix = "churn:signin:lock:";
    private int redisWarned;

    public const string UserKind = "user";
    public const string AddressKind = "address";

    /// <summary>Entries kept at most; beyond it the expired ones are dropped first, then the oldest.</summary>
    private const int Capacity = 10_000;

    private readonly Lock gate = new();
    private readonly Dictionary<(string Kind, string Key), Entry> entries = [];

    /// <summary>How long the user name or address is still locked out; null when it may try.</summary>
    public TimeSpan? LockedFor(string userName, string? address)
    {
        if (Shared() is { } db)
        {
            try
            {
                var ttls = new[] { db.KeyTimeToLive(LockPrefix + Key(UserKind, Normalize(userName))), db.KeyTimeToLive(LockPrefix + Key(AddressKind, address ?? "unknown")) };
                return ttls.Max();
            }
            catch (RedisException ex)
            {
                RedisFailed(ex);
            }
        }
        var now = time.GetUtcNow();
        lock (gate)
        {
            var until = new[] { Until((UserKind, Normalize(userName)), now), Until((AddressKind, address ?? "unknown"), now) }.Max();
            return until is { } u ? u - now : null;
        }
    }

    /// <summary>Counts a failed attempt; returns how long it is now locked out for, or null when attempts remain.</summary>
    public TimeSpan? Failed(string userName, string? address)
    {
        var o = options.Value;
        if (Shared() is { } db)
        {
            try
            {
                var user = CountShared(db, UserKind, Normalize(userName), o.FailuresPerUser, o.Lockout);
                var from = CountShared(db, AddressKind, address ?? "unknown", o.FailuresPerAddress, o.Lockout);
                return Report(user, from, userName, address, o.Lockout);
            }
            catch (RedisException ex)
            {
                RedisFailed(ex);
            }
        }
        var now = time.GetUtcNow();
        lock (gate)
        {
            Prune(now);
            var user = Count((UserKind, Normalize(userName)), o.FailuresPerUser, now, o.Lockout);
            var from = Count((AddressKind, address ?? "unknown"), o.FailuresPerAddress, now, o.Lockout);
            return Report(user is not null, from is not null, userName, address, o.Lockout);
        }
    }

    private TimeSpan? Report(bool user, bool from, string userName, string? address, TimeSpan lockout)
    {
        if (!user && !from)
        {
            return null;
        }
        log.LogWarning("Dashboard sign-in locked out for {Lockout} after repeated failures: user name {User}, address {Address}.",
            lockout, user ? userName : "-", from ? address : "-");
        return lockout;
    }

    /// <summary>Counts a failure in Redis: a counter per name that lives for the lockout window; reaching the limit sets the lock.</summary>
    private static bool CountShared(IDatabase db, string kind, string key, int limit, TimeSpan lockout)
    {
        var failKey = FailPrefix + Key(kind, key);
        var failures = db.StringIncrement(failKey);
        if (failures == 1)
        {
            db.KeyExpire(failKey, lockout);
        }
        if (failures < limit)
        {
            return false;
        }
        db.StringSet(LockPrefix + Key(kind, key), "1", lockout);
        db.KeyDelete(failKey);
        return true;
    }

    private static string Key(string kind, string key) => $"{kind}:{key}";

    /// <summary>The shared Redis database while it answers; null on one node (or while it is away).</summary>
    private IDatabase? Shared() => redis?.Multiplexer is { IsConnected: true } multiplexer ? multiplexer.GetDatabase() : null;

    private void RedisFailed(RedisException ex)
    {
        if (Interlocked.Exchange(ref redisWarned, 1) == 0)
        {
            log.LogWarning(ex, "Redis did not answer for the sign-in lockout; this process counts failures on its own until it does.");
        }
    }

    /// <summary>A successful sign-in forgets the user name's failures (the address keeps its count: it may be guessing other names).</summary>
    public void Succeeded(string userName)
    {
        if (Shared() is { } db)
        {
            try
            {
                db.KeyDelete(FailPrefix + Key(UserKind, Normalize(userName)));
            }
            catch (RedisException ex)
            {
                RedisFailed(ex);
            }
        }
        lock (gate)
        {
            entries.Remove((UserKind, Normalize(userName)));
        }
    }

    /// <summary>The lockouts in force now, the longest-lasting first.</summary>
    public IReadOnlyList<SignInLock> Locks()
    {
        var now = time.GetUtcNow();
        if (Shared() is { } db && redis?.Multiplexer is { } multiplexer)
        {
            try
            {
                var shared = new List<SignInLock>();
                foreach (var server in multiplexer.GetServers().Where(s => !s.IsReplica))
                {
                    foreach (var key in server.Keys(pattern: LockPrefix + "*"))
                    {
                        var parts = key.ToString()[LockPrefix.Length..].Split(':', 2);
                        if (parts.Length == 2 && db.KeyTimeToLive(key) is { } ttl)
                        {
                            shared.Add(new SignInLock(parts[0], parts[1], now + ttl));
                        }
                    }
                }
                return [.. shared.OrderByDescending(l => l.Until)];
            }
            catch (RedisException ex)
            {
                RedisFailed(ex);
            }
        }
        lock (gate)
        {
            return [.. entries.Where(e => e.Value.LockedUntil > now)
                .Select(e => new SignInLock(e.Key.Kind, e.Key.Key, e.Value.LockedUntil!.Value))
                .OrderByDescending(l => l.Until)];
        }
    }

    /// <summary>Ends a lockout early and forgets its failures (an admin's decision); false when there was none.</summary>
    public bool Lift(string kind, string key)
    {
        if (Shared() is { } db)
        {
            try
            {
                var name = Key(kind, kind == UserKind ? Normalize(key) : key);
                return db.KeyDelete([(RedisKey)(LockPrefix + name), (RedisKey)(FailPrefix + name)]) > 0;
            }
            catch (RedisException ex)
            {
                RedisFailed(ex);
            }
        }
        lock (gate)
        {
            return entries.Remove((kind, kind == UserKind ? Normalize(key) : key));
        }
    }

    // Case-folded, so "Admin" and "admin" count towards the same lockout.
    private static string Normalize(string userName) => userName.Trim().ToLowerInvariant();

    private DateTimeOffset? Until((string, string) key, DateTimeOffset now) =>
        entries.TryGetValue(key, out var e) && e.LockedUntil > now ? e.LockedUntil : null;

    private DateTimeOffset? Count((string, string) key, int limit, DateTimeOffset now, TimeSpan lockout)
    {
        if (!entries.TryGetValue(key, out var entry))
        {
            entries[key] = entry = new Entry();
        }
        entry.Failures.Enqueue(now);
        while (entry.Failures.Count > 0 && now - entry.Failures.Peek() > lockout)
        {
            entry.Failures.Dequeue();
        }
        entry.LastSeen = now;
        if (entry.Failures.Count >= limit)
        {
            entry.LockedUntil = now + lockout;
            entry.Failures.Clear();
            return entry.LockedUntil;
        }
        return null;
    }

    private void Prune(DateTimeOffset now)
    {
        if (entries.Count < Capacity)
        {
            return;
        }
        var lockout = options.Value.Lockout;
        foreach (var key in entries.Where(e => now - e.Value.LastSeen > lockout && !(e.Value.LockedUntil > now)).Select(e => e.Key).ToList())
        {
            entries.Remove(key);
        }
        // Still full: a flood of distinct names. Drop the least recently seen, keeping lockouts in force where possible.
        foreach (var key in entries.OrderBy(e => e.Value.LockedUntil > now).ThenBy(e => e.Value.LastSeen).Take(entries.Count - (Capacity / 2)).Select(e => e.Key).ToList())
        {
            entries.Remove(key);
        }
    }

    private sealed class Entry
    {
        public Queue<DateTimeOffset> Failures { get; } = new();

        public DateTimeOffset? LockedUntil { get; set; }

        public DateTimeOffset LastSeen { get; set; }
    }
}
