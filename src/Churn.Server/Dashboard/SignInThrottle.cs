using System.Security.Cryptography;
using System.Text;
using Churn.Server.Coordination;

namespace Churn.Server.Dashboard;

/// <summary>A user name or client address that may not sign in until <see cref="Until"/>.</summary>
public sealed record SignInLock(string Kind, string Key, DateTimeOffset Until);

/// <summary>
/// Locks out password guessing on the dashboard's sign-in form: after <see cref="DashboardOptions.FailuresPerUser"/>
/// failures for one user name, or <see cref="DashboardOptions.FailuresPerAddress"/> from one client address, within
/// <see cref="DashboardOptions.Lockout"/> of the first, further attempts are refused without checking the password until
/// the lockout (also <see cref="DashboardOptions.Lockout"/>) ends. Unknown user names are counted like known ones, so a
/// lockout does not reveal who exists.
/// This class owns the rule; the counts live where every replica sees them (<see cref="ISignInCounts"/>): in Redis
/// when <c>Churn:Redis</c> is set, in the store otherwise, so a guesser spread over N replicas gets no more attempts
/// than against one. While Redis does not answer, the store counts instead until it does.
/// </summary>
public sealed class SignInThrottle(
    IOptions<DashboardOptions> options, ISignInCounts counts, StoreSignInCounts store, TimeProvider time, ILogger<SignInThrottle> log)
{
    public const string UserKind = "user";
    public const string AddressKind = "address";

    /// <summary>The longest key kept as it is; a longer user name is counted under its SHA-256, so any name fits the store's column.</summary>
    public const int MaxKeyLength = 200;

    private int redisWarned;

    /// <summary>How long the user name or address is still locked out; null when it may try.</summary>
    public async Task<TimeSpan?> LockedForAsync(string userName, string? address, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        var until = await UseAsync(async c => new[]
        {
            await c.LockedUntilAsync(UserKind, UserKey(userName), now, cancellationToken),
            await c.LockedUntilAsync(AddressKind, AddressKey(address), now, cancellationToken),
        }.Max());
        return until is { } u && u > now ? u - now : null;
    }

    /// <summary>Counts a failed attempt; returns how long it is now locked out for, or null when attempts remain.</summary>
    public async Task<TimeSpan?> FailedAsync(string userName, string? address, CancellationToken cancellationToken = default)
    {
        var o = options.Value;
        var now = time.GetUtcNow();
        var (user, from) = await UseAsync(async c => (
            await c.CountFailureAsync(UserKind, UserKey(userName), o.FailuresPerUser, o.Lockout, now, cancellationToken),
            await c.CountFailureAsync(AddressKind, AddressKey(address), o.FailuresPerAddress, o.Lockout, now, cancellationToken)));
        if (!user && !from)
        {
            return null;
        }
        log.LogWarning("Dashboard sign-in locked out for {Lockout} after repeated failures: user name {User}, address {Address}.",
            o.Lockout, user ? userName : "-", from ? address : "-");
        return o.Lockout;
    }

    /// <summary>A successful sign-in forgets the user name's failures (the address keeps its count: it may be guessing other names).</summary>
    public Task SucceededAsync(string userName, CancellationToken cancellationToken = default) =>
        UseAsync(async c =>
        {
            await c.ForgetFailuresAsync(UserKind, UserKey(userName), cancellationToken);
            return true;
        });

    /// <summary>The lockouts in force now, the longest-lasting first.</summary>
    public async Task<IReadOnlyList<SignInLock>> LocksAsync(CancellationToken cancellationToken = default)
    {
        var locks = await UseAsync(c => c.LocksAsync(time.GetUtcNow(), cancellationToken));
        return [.. locks.OrderByDescending(l => l.Until)];
    }

    /// <summary>Ends a lockout early and forgets its failures (an admin's decision); false when there was none.</summary>
    public Task<bool> LiftAsync(string kind, string key, CancellationToken cancellationToken = default) =>
        UseAsync(c => c.LiftAsync(kind, kind == UserKind ? UserKey(key) : AddressKey(key), cancellationToken));

    /// <summary>
    /// The key a user name is counted under: trimmed and case-folded, so "Admin" and "admin" count towards the same
    /// lockout; a name longer than <see cref="MaxKeyLength"/> becomes "sha256:" and its hash.
    /// </summary>
    public static string UserKey(string userName) => Bounded(userName.Trim().ToLowerInvariant());

    private static string AddressKey(string? address) => Bounded(address ?? "unknown");

    private static string Bounded(string key) => key.Length <= MaxKeyLength
        ? key
        : "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>
    /// Runs <paramref name="action"/> on the shared counts; when those are not the store's own (they are Redis's) and Redis
    /// does not answer, on the store's.
    /// </summary>
    private async Task<T> UseAsync<T>(Func<ISignInCounts, Task<T>> action)
    {
        if (!ReferenceEquals(counts, store))
        {
            try
            {
                return await action(counts);
            }
            catch (Exception ex) when (RedisParts.IsFailure(ex))
            {
                if (Interlocked.Exchange(ref redisWarned, 1) == 0)
                {
                    log.LogWarning(ex, "Redis did not answer for the sign-in lockout; failures are counted in the store until it does.");
                }
            }
        }
        return await action(store);
    }
}
