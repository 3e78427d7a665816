namespace Churn.Data.Security;

/// <summary>
/// The append-only record of every change: who, what, to what, when and from where. Nothing updates or deletes it.
/// It is the one writer of audit entries: the API, the dashboard, background jobs and the <c>churn</c> command all record
/// through it (mostly through the changes that call it: <see cref="Registry.ModelChanges"/>, <see cref="ApiKeyStore"/>,
/// <see cref="Retraining.Retrainer"/>).
/// </summary>
public sealed class AuditLog(StoreFactory store, TimeProvider time)
{
    /// <summary>Records a change that has taken effect; <paramref name="details"/> is stored as JSON.</summary>
    public async Task RecordAsync(AuditActor by, string action, string? target, object? details = null)
    {
        var entry = new AuditEntry
        {
            Time = time.GetUtcNow(),
            Actor = by.Name,
            Action = action,
            Target = target,
            Details = details is null ? null : JsonSerializer.Serialize(details, JsonSerializerOptions.Web),
            ClientAddress = by.Address,
        };
        await using var db = store.CreateDbContext();
        db.AuditLog.Add(entry);
        // The change it records has already happened, so the entry is written even if the caller has gone.
        await db.SaveChangesAsync(CancellationToken.None);
    }

    /// <summary>The newest <paramref name="limit"/> entries, newest first, optionally of one action only.</summary>
    public async Task<IReadOnlyList<AuditResponse>> ListAsync(int limit, string? action, CancellationToken cancellationToken)
    {
        await using var db = store.CreateDbContext();
        var query = db.AuditLog.AsNoTracking();
        if (action is not null)
        {
            query = query.Where(a => a.Action == action);
        }
        return await query.OrderByDescending(a => a.Id).Take(limit)
            .Select(a => new AuditResponse(a.Id, a.Time, a.Actor, a.Action, a.Target, a.Details, a.ClientAddress))
            .ToListAsync(cancellationToken);
    }
}
