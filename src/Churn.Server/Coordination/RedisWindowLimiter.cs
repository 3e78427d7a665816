using System.Threading.RateLimiting;
using StackExchange.Redis;

namespace Churn.Server.Coordination;

/// <summary>
/// A fixed window of <c>limit</c> requests per minute for one key, counted in Redis so that every replica draws on the
/// same allowance: the first request of a window creates the counter with a one-minute expiry, each request increments
/// it (one Lua call, atomic), and requests beyond the limit are refused until the counter expires.
/// </summary>
/// <remarks>
/// If Redis cannot be reached the request is let through (fail open) with a logged warning: a lost counter must not
/// take the scoring API down with it, and each replica's capacity still bounds the damage.
/// </remarks>
internal sealed class RedisWindowLimiter(IConnectionMultiplexer redis, RedisKey key, int limit, TimeSpan window, RedisLimiterWarnings warnings) : RateLimiter
{
    private const string CountScript = """
        local n = redis.call('INCR', KEYS[1])
        if n == 1 then
          redis.call('PEXPIRE', KEYS[1], ARGV[1])
        end
        local ttl = redis.call('PTTL', KEYS[1])
        if ttl < 0 then
          redis.call('PEXPIRE', KEYS[1], ARGV[1])
          ttl = tonumber(ARGV[1])
        end
        return {n, ttl}
        """;

    private long lastUsedTicks = DateTime.UtcNow.Ticks;

    public override TimeSpan? IdleDuration => TimeSpan.FromTicks(DateTime.UtcNow.Ticks - Volatile.Read(ref lastUsedTicks));

    public override RateLimiterStatistics? GetStatistics() => null;

    /// <summary>
    /// The synchronous attempt never decides: deciding needs a round trip to Redis. ASP.NET's rate limiting middleware
    /// then calls <see cref="AcquireAsyncCore"/>, which does.
    /// </summary>
    protected override RateLimitLease AttemptAcquireCore(int permitCount) => Lease.Undecided;

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        Volatile.Write(ref lastUsedTicks, DateTime.UtcNow.Ticks);
        if (permitCount == 0)
        {
            return Lease.Granted;
        }
        try
        {
            var result = (RedisResult[])(await redis.GetDatabase().ScriptEvaluateAsync(CountScript, [key], [(long)window.TotalMilliseconds]))!;
            var count = (long)result[0];
            return count <= limit ? Lease.Granted : Lease.Refused(TimeSpan.FromMilliseconds(Math.Max(1, (long)result[1])));
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            warnings.Unavailable(ex);
            return Lease.Granted;
        }
    }

    private sealed class Lease(bool acquired, TimeSpan? retryAfter) : RateLimitLease
    {
        public static readonly Lease Granted = new(true, null);
        public static readonly Lease Undecided = new(false, null);

        public static Lease Refused(TimeSpan retryAfter) => new(false, retryAfter);

        public override bool IsAcquired => acquired;

        public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = retryAfter;
            return retryAfter is not null && metadataName == MetadataName.RetryAfter.Name;
        }
    }
}

/// <summary>Logs that rate limiting fails open at most once a minute, so an outage is visible without flooding the log.</summary>
internal sealed class RedisLimiterWarnings(ILogger<RedisLimiterWarnings> log, TimeProvider time)
{
    private long nextTicks;

    public void Unavailable(Exception ex)
    {
        var now = time.GetUtcNow().UtcTicks;
        var next = Volatile.Read(ref nextTicks);
        if (now >= next && Interlocked.CompareExchange(ref nextTicks, now + TimeSpan.TicksPerMinute, next) == next)
        {
            log.LogWarning(ex, "Redis is unavailable: rate limits are not enforced until it answers again (requests are let through).");
        }
    }
}
