using Churn.Server.Hosting;
using Microsoft.Extensions.Options;

namespace Churn.Server.Coordination;

/// <summary>
/// The one-training-at-a-time lock shared by every replica (Redis when configured, else the store). It is held for
/// <see cref="Ttl"/> and renewed while the training runs, so a replica killed mid-training frees it within that time.
/// </summary>
public sealed class TrainingLock(ICoordinator coordinator, IOptions<ServerOptions> options, ILogger<TrainingLock> log)
{
    public static readonly TimeSpan Ttl = TimeSpan.FromMinutes(2);

    /// <summary>The lock for <paramref name="purpose"/> (a job id, "first model"), or null when another training holds it.</summary>
    public Task<HeldLock?> TryTakeAsync(string purpose, CancellationToken cancellationToken) =>
        HeldLock.TryTakeAsync(coordinator, CoordinationNames.TrainingLock, $"{options.Value.InstanceId}/{purpose}", Ttl, log, cancellationToken);

    /// <summary>
    /// Releases the lock when this instance id holds it. Called at start, before this process trains anything: only one
    /// running process may use an instance id (its prediction journal folder is locked), so such a holder is a previous
    /// life of this replica, killed mid-training, and waiting out the lock's expiry would only delay the next training.
    /// </summary>
    public async Task<string?> ReleaseIfLeftByThisInstanceAsync(CancellationToken cancellationToken)
    {
        var holder = await coordinator.HolderAsync(CoordinationNames.TrainingLock, cancellationToken);
        if (holder is null || !holder.StartsWith($"{options.Value.InstanceId}/", StringComparison.Ordinal))
        {
            return null;
        }
        await coordinator.ReleaseAsync(CoordinationNames.TrainingLock, holder, cancellationToken);
        log.LogWarning("Released the training lock left by {Holder}, a previous run of this replica.", holder);
        return holder;
    }

    /// <summary>Who holds the lock (instance id and what it trains), or null when it is free.</summary>
    public Task<string?> HolderAsync(CancellationToken cancellationToken) => coordinator.HolderAsync(CoordinationNames.TrainingLock, cancellationToken);
}
