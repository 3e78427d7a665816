namespace Churn.Server.Coordination;

/// <summary>
/// Keeps a renewed lease so that exactly one replica runs the jobs that must not run twice (monitoring checks, the
/// retention purge, scheduled retraining). Those jobs ask <see cref="IsLeader"/> before each run. A replica that cannot
/// renew (Redis or the store away) stops counting itself leader when its last lease runs out, so two leaders never
/// overlap; a replica that stops releases the lease, and one that dies loses it after <see cref="Ttl"/>.
/// </summary>
public sealed class LeaderElection(ICoordinator coordinator, IOptions<ServerOptions> options, TimeProvider time, ILogger<LeaderElection> log)
    : BackgroundService
{
    public static readonly TimeSpan Ttl = TimeSpan.FromSeconds(15);

    private static readonly TimeSpan Every = Ttl / 3;

    // The instance id alone would let a restarted replica inherit its predecessor's lease; the suffix tells them apart.
    private readonly string holder = $"{options.Value.InstanceId}/{Guid.NewGuid():N}";
    private long leaseUntilTicks;

    public string Holder => holder;

    /// <summary>True while this replica holds an unexpired lease.</summary>
    public bool IsLeader => time.GetUtcNow().UtcTicks < Volatile.Read(ref leaseUntilTicks);

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // The first attempt is made before the other jobs start, so a single node is leader from its first tick.
        await TryLeadAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Every, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            await TryLeadAsync(stoppingToken);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (IsLeader)
        {
            Volatile.Write(ref leaseUntilTicks, 0);
            try
            {
                await coordinator.ReleaseAsync(CoordinationNames.LeaderLease, holder, cancellationToken);
                log.LogInformation("Released the leader lease ({Holder}).", holder);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                log.LogWarning(ex, "Could not release the leader lease; another replica takes over when it expires.");
            }
        }
    }

    private async Task TryLeadAsync(CancellationToken cancellationToken)
    {
        var wasLeader = IsLeader;
        var asked = time.GetUtcNow();
        try
        {
            // Acquire also renews when this holder already has the lease.
            if (await coordinator.TryAcquireAsync(CoordinationNames.LeaderLease, holder, Ttl, cancellationToken))
            {
                // Counted from before the request, so this replica's view of its lease never outlasts the real one.
                Volatile.Write(ref leaseUntilTicks, (asked + Ttl).UtcTicks);
                if (!wasLeader)
                {
                    log.LogInformation("This replica ({Holder}) now runs monitoring, retention and scheduled retraining.", holder);
                }
            }
            else
            {
                Volatile.Write(ref leaseUntilTicks, 0);
                if (wasLeader)
                {
                    log.LogWarning("Another replica holds the leader lease; this one ({Holder}) stops running the leader's jobs.", holder);
                }
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Keep the lease until it runs out by itself: the next attempt may renew it in time.
            log.LogWarning(ex, "Could not renew or take the leader lease ({Kind}); {State}.", coordinator.Kind,
                IsLeader ? "still leader until the lease runs out" : "not leader");
        }
    }
}
