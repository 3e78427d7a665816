namespace Churn.Server.Dashboard;

/// <summary>A user name or client address that may not sign in until <see cref="Until"/>.</summary>
public sealed record SignInLock(string Kind, string Key, DateTimeOffset Until);

/// <summary>
/// Locks out password guessing on the dashboard's sign-in form: after <see cref="DashboardOptions.FailuresPerUser"/>
/// failures for one user name, or <see cref="DashboardOptions.FailuresPerAddress"/> from one client address, within
/// <see cref="DashboardOptions.Lockout"/>, further attempts are refused without checking the password until the lockout ends.
/// Unknown user names are counted like known ones, so a lockout does not reveal who exists.
/// REVIEW: the counts live in this process; with several replicas each keeps its own, so a guesser spread over
/// replicas gets that many times the attempts. A shared store (Redis) would close that.
/// </summary>
public sealed class SignInThrottle(IOptions<DashboardOptions> options, TimeProvider time, ILogger<SignInThrottle> log)
{
    public const string UserKind = "user";
    public const string AddressKind = "address";

    /// <summary>Entries kept at most; beyond it the expired ones are dropped first, then the oldest.</summary>
    private const int Capacity = 10_000;

    private readonly Lock gate = new();
    private readonly Dictionary<(string Kind, string Key), Entry> entries = [];

    /// <summary>How long the user name or address is still locked out; null when it may try.</summary>
    public TimeSpan? LockedFor(string userName, string? address)
    {
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
        var now = time.GetUtcNow();
        lock (gate)
        {
            Prune(now);
            var user = Count((UserKind, Normalize(userName)), o.FailuresPerUser, now, o.Lockout);
            var from = Count((AddressKind, address ?? "unknown"), o.FailuresPerAddress, now, o.Lockout);
            if (user is null && from is null)
            {
                return null;
            }
            log.LogWarning("Dashboard sign-in locked out for {Lockout} after repeated failures: user name {User}, address {Address}.",
                o.Lockout, user is null ? "-" : userName, from is null ? "-" : address);
            return o.Lockout;
        }
    }

    /// <summary>A successful sign-in forgets the user name's failures (the address keeps its count: it may be guessing other names).</summary>
    public void Succeeded(string userName)
    {
        lock (gate)
        {
            entries.Remove((UserKind, Normalize(userName)));
        }
    }

    /// <summary>The lockouts in force now, the longest-lasting first.</summary>
    public IReadOnlyList<SignInLock> Locks()
    {
        var now = time.GetUtcNow();
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
