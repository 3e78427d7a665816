using System.Runtime.CompilerServices;
using System.Threading.RateLimiting;
using Churn.Server.Dashboard;
using StackExchange.Redis;

namespace Churn.Server.Coordination;

/// <summary>
/// Where code that also runs on a single node reaches the parts kept in Redis. Compiling a method, or loading a class
/// with a field of a Redis type, loads the Redis client's assembly (1.9 MB resident), so callers test
/// <see cref="RedisConnection.Configured"/> and call these: a class without fields, whose methods alone name Redis types
/// and are compiled only when called, that is only when <c>Churn:Redis</c> is set. Each method requires it to be.
/// </summary>
internal static class RedisParts
{
    /// <summary>The coordinator on the configured connection.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static ICoordinator Coordinator(IServiceProvider services) =>
        new RedisCoordinator(services.GetRequiredService<RedisConnection>().Multiplexer!, services.GetRequiredService<ILogger<RedisCoordinator>>());

    /// <summary>The sign-in counts on the configured connection.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static ISignInCounts SignInCounts(IServiceProvider services) => new RedisSignInCounts(services.GetRequiredService<RedisConnection>().Multiplexer!);

    /// <summary>The rate-limit partition <paramref name="partition"/>, <paramref name="limit"/> requests a minute counted in Redis.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static RateLimitPartition<string> RatePartition(IServiceProvider services, string partition, int limit) =>
        RateLimitPartition.Get(partition, key => new RedisWindowLimiter(
            services.GetRequiredService<RedisConnection>().Multiplexer!, $"{RedisCoordinator.Prefix}rate:{key}", limit, TimeSpan.FromMinutes(1),
            services.GetRequiredService<RedisLimiterWarnings>()));

    /// <summary>Whether <paramref name="exception"/> is Redis not answering.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static bool IsFailure(Exception exception) => exception is RedisException;
}
