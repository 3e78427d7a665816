using System.Diagnostics;
using Churn.Data.Settings;
using Microsoft.Extensions.Logging.Abstractions;

namespace Churn.Data.Retraining;

/// <summary>
/// The one-training-at-a-time lock: a row in the store (<see cref="StoreLock"/>), which every server replica and every
/// <c>churn retrain</c> on the same store takes, whether or not Redis is configured (docs/adr/0005-one-training-lock-in-the-store.md).
/// It is held for <see cref="Ttl"/> and renewed while the training runs, so a holder killed mid-training frees it within that time.
/// Holders are named <c>&lt;instance&gt;/&lt;purpose&gt;</c> for a server and <c>&lt;host&gt;:&lt;pid&gt;:cli</c> for the command.
/// </summary>
public sealed class TrainingLock(StoreLock locks, ILogger<TrainingLock>? logger = null)
{
    /// <summary>The lock's name in the store (the row <c>lock:training</c>).</summary>
    public const string Name = "training";

    public static readonly TimeSpan Ttl = TimeSpan.FromMinutes(2);

    private readonly ILogger log = logger ?? NullLogger<TrainingLock>.Instance;

    /// <summary>The holder name of a server replica training for <paramref name="purpose"/> (a job id, "first-model").</summary>
    public static string ReplicaHolder(string instanceId, string purpose) => $"{instanceId}/{purpose}";

    /// <summary>The holder name of this <c>churn</c> command process.</summary>
    public static string CommandHolder() => $"{Environment.MachineName}:{Environment.ProcessId}:cli";

    /// <summary>The lock for <paramref name="holder"/>, renewed until disposed, or null when another training holds it.</summary>
    public Task<HeldLock?> TryTakeAsync(string holder, CancellationToken cancellationToken) =>
        HeldLock.TryTakeAsync(locks, Name, holder, Ttl, log, cancellationToken);

    /// <summary>Who holds the lock, or null when it is free.</summary>
    public Task<string?> HolderAsync(CancellationToken cancellationToken) => locks.HolderAsync(Name, cancellationToken);

    /// <summary>
    /// Frees the lock when its holder is known to be gone, so a new training need not wait for it to expire: a previous
    /// life of server instance <paramref name="instanceId"/> (only one running process may use an instance id, and this one
    /// has not trained yet), or a <c>churn</c> command of this machine whose process no longer runs. Holders elsewhere are
    /// left to expire. Returns the holder it freed, or null.
    /// </summary>
    public async Task<string?> ReleaseAbandonedAsync(string instanceId, CancellationToken cancellationToken)
    {
        if (await locks.HolderAsync(Name, cancellationToken) is not { } holder)
        {
            return null;
        }
        var parts = holder.Split(':');
        var abandoned = holder.StartsWith($"{instanceId}/", StringComparison.Ordinal)
            || (parts.Length == 3 && parts[0] == Environment.MachineName && parts[2] == "cli" && int.TryParse(parts[1], out var pid)
                // A container's pid 1 may be a previous life of this very process: its own id counts as gone.
                && (pid == Environment.ProcessId || !ProcessExists(pid)));
        if (!abandoned)
        {
            return null;
        }
        await locks.ReleaseAsync(Name, holder, cancellationToken);
        log.LogWarning("Released the training lock held by {Holder}: that process is gone.", holder);
        return holder;
    }

    private static bool ProcessExists(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
