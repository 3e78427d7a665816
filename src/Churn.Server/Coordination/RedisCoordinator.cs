using StackExchange.Redis;

namespace Churn.Server.Coordination;

/// <summary>
/// Coordination through Redis for replicas sharing it: a lock is a key set with NX and a time-to-live whose value is the
/// holder's token, renewed and released only by that holder (compare-and-set in Lua, so a holder whose lock expired
/// and was taken over cannot extend or delete the new holder's key); notifications are Redis pub/sub.
/// </summary>
internal sealed class RedisCoordinator(IConnectionMultiplexer redis, ILogger<RedisCoordinator> log) : ICoordinator
{
    /// <summary>Every key and channel starts with this, so the deployment's entries are easy to find in a shared Redis.</summary>
    public const string Prefix = "churn:";

    private const string RenewScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          return redis.call('PEXPIRE', KEYS[1], ARGV[2])
        end
        return 0
        """;

    private const string ReleaseScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          return redis.call('DEL', KEYS[1])
        end
        return 0
        """;

    public string Kind => "redis";

    public static RedisKey LockKey(string name) => $"{Prefix}lock:{name}";

    public static RedisChannel Channel(string topic) => RedisChannel.Literal($"{Prefix}events:{topic}");

    public async Task<bool> TryAcquireAsync(string name, string holder, TimeSpan ttl, CancellationToken cancellationToken)
    {
        var db = redis.GetDatabase();
        if (await db.StringSetAsync(LockKey(name), holder, ttl, When.NotExists))
        {
            return true;
        }
        return await RenewAsync(name, holder, ttl, cancellationToken);
    }

    public async Task<bool> RenewAsync(string name, string holder, TimeSpan ttl, CancellationToken cancellationToken)
    {
        var renewed = await redis.GetDatabase().ScriptEvaluateAsync(RenewScript, [LockKey(name)], [holder, (long)ttl.TotalMilliseconds]);
        return (long)renewed == 1;
    }

    public Task ReleaseAsync(string name, string holder, CancellationToken cancellationToken) =>
        redis.GetDatabase().ScriptEvaluateAsync(ReleaseScript, [LockKey(name)], [holder]);

    public async Task<string?> HolderAsync(string name, CancellationToken cancellationToken)
    {
        var value = await redis.GetDatabase().StringGetAsync(LockKey(name));
        return value.IsNull ? null : value.ToString();
    }

    public Task PublishAsync(string topic, string message) => redis.GetSubscriber().PublishAsync(Channel(topic), message);

    public async Task SubscribeAsync(string topic, Func<string, Task> handler)
    {
        // A channel message queue delivers in order, one handler call at a time; the client re-subscribes after a reconnect.
        var messages = await redis.GetSubscriber().SubscribeAsync(Channel(topic));
        messages.OnMessage(async message =>
        {
            try
            {
                await handler(message.Message.ToString());
            }
            catch (Exception ex)
            {
                log.LogWarning(ex, "Handling the {Topic} notification failed; polling catches up.", topic);
            }
        });
    }
}
