namespace Churn.Data.Settings;

/// <summary>
/// A named lock held in the settings table, so it holds across processes and replicas sharing the store. The row
/// <c>lock:&lt;name&gt;</c> names its holder in <see cref="Setting.UpdatedBy"/> and its expiry in <see cref="Setting.UpdatedAt"/>;
/// it is taken by one conditional UPDATE (free or expired) or, when the row does not exist yet, by an INSERT that the
/// primary key lets only one contender win. A holder that dies loses the lock when it expires.
/// </summary>
public sealed class StoreLock(StoreFactory store, TimeProvider time)
{
    // No dot in the key: RuntimeSettings reads "section.name" rows as settings and must not see locks.
    private static string Key(string name) => $"lock:{name}";

    public async Task<bool> TryAcquireAsync(string name, string holder, TimeSpan ttl, CancellationToken cancellationToken = default)
    {
        var key = Key(name);
        var now = time.GetUtcNow();
        var expires = now + ttl;
        await using var db = store.CreateDbContext();
        var taken = await db.Settings
            .Where(s => s.Key == key && (s.UpdatedAt <= now || s.UpdatedBy == holder))
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.UpdatedAt, expires).SetProperty(s => s.UpdatedBy, holder), cancellationToken);
        if (taken == 1)
        {
            return true;
        }
        if (await db.Settings.AnyAsync(s => s.Key == key, cancellationToken))
        {
            return false;
        }
        db.Settings.Add(new Setting { Key = key, ValueJson = "null", UpdatedAt = expires, UpdatedBy = holder });
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }
        catch (DbUpdateException)
        {
            // Another contender inserted the row first.
            return false;
        }
    }

    /// <summary>Releases the lock if <paramref name="holder"/> still holds it (an expired lock taken over by another is left alone).</summary>
    public async Task ReleaseAsync(string name, string holder, CancellationToken cancellationToken = default)
    {
        var key = Key(name);
        await using var db = store.CreateDbContext();
        await db.Settings.Where(s => s.Key == key && s.UpdatedBy == holder)
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.UpdatedAt, DateTimeOffset.UnixEpoch).SetProperty(s => s.UpdatedBy, (string?)null), cancellationToken);
    }

    /// <summary>The current holder, or null when the lock is free or expired.</summary>
    public async Task<string?> HolderAsync(string name, CancellationToken cancellationToken = default)
    {
        var key = Key(name);
        var now = time.GetUtcNow();
        await using var db = store.CreateDbContext();
        return await db.Settings.AsNoTracking().Where(s => s.Key == key && s.UpdatedAt > now).Select(s => s.UpdatedBy).FirstOrDefaultAsync(cancellationToken);
    }
}
