namespace Churn.Data.Settings;

/// <summary>
/// A <see cref="StoreLock"/> held for as long as the work it guards runs: renewed in the background every third of its
/// time-to-live, so a holder that dies loses it within the time-to-live while a long training keeps it. Disposing stops
/// renewing and releases it.
/// </summary>
public sealed class HeldLock : IAsyncDisposable
{
    private readonly StoreLock locks;
    private readonly CancellationTokenSource stop = new();
    private readonly Task renewal;
    private readonly ILogger log;

    private HeldLock(StoreLock locks, string name, string holder, TimeSpan ttl, ILogger log)
    {
        this.locks = locks;
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
    public static async Task<HeldLock?> TryTakeAsync(StoreLock locks, string name, string holder, TimeSpan ttl, ILogger log, CancellationToken cancellationToken) =>
        await locks.TryAcquireAsync(name, holder, ttl, cancellationToken) ? new HeldLock(locks, name, holder, ttl, log) : null;

    private async Task RenewAsync(TimeSpan ttl)
    {
        using var timer = new PeriodicTimer(ttl / 3);
        try
        {
            while (await timer.WaitForNextTickAsync(stop.Token))
            {
                try
                {
                    // Taking a lock one already holds moves its expiry on: that is the renewal.
                    if (!await locks.TryAcquireAsync(Name, Holder, ttl, stop.Token))
                    {
                        Held = false;
                        log.LogError("Lost the {Lock} lock ({Holder}): it expired and another holder took it.", Name, Holder);
                        return;
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // The store may be briefly away; the lock lasts its ttl, so the next renewal can still keep it.
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
            await locks.ReleaseAsync(Name, Holder, CancellationToken.None);
        }
        catch (Exception ex)
        {
            // Not released: it expires by itself within its ttl.
            log.LogWarning(ex, "Could not release the {Lock} lock; it expires by itself.", Name);
        }
    }
}
