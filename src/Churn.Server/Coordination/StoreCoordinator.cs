using Churn.Data.Settings;

namespace Churn.Server.Coordination;

/// <summary>
/// One node's coordination: locks and leases are rows in the store (<see cref="StoreLock"/>), so they still hold
/// against the CLI or another process on the same store; notifications have no one else to reach and are dropped
/// (other processes follow the champion by polling).
/// </summary>
public sealed class StoreCoordinator(StoreLock locks) : ICoordinator
{
    public string Kind => "store";

    public Task<bool> TryAcquireAsync(string name, string holder, TimeSpan ttl, CancellationToken cancellationToken) =>
        locks.TryAcquireAsync(name, holder, ttl, cancellationToken);

    // StoreLock's acquire extends the expiry when the holder already has it, which is exactly a renewal.
    public Task<bool> RenewAsync(string name, string holder, TimeSpan ttl, CancellationToken cancellationToken) =>
        locks.TryAcquireAsync(name, holder, ttl, cancellationToken);

    public Task ReleaseAsync(string name, string holder, CancellationToken cancellationToken) =>
        locks.ReleaseAsync(name, holder, cancellationToken);

    public Task<string?> HolderAsync(string name, CancellationToken cancellationToken) => locks.HolderAsync(name, cancellationToken);

    public Task PublishAsync(string topic, string message) => Task.CompletedTask;

    public Task SubscribeAsync(string topic, Func<string, Task> handler) => Task.CompletedTask;
}
