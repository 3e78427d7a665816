using System.Security.Claims;
using System.Text.Json;
using Churn.Data.Security;
using Churn.Data.Store;
using Microsoft.EntityFrameworkCore;

namespace Churn.Server.Security;

public sealed record AuditResponse(long Id, DateTimeOffset Time, string Actor, string Action, string? Target, string? Details, string? ClientAddress);

/// <summary>The append-only record of every change: who (key name), what, to what, when and from where. Nothing updates or deletes it.</summary>
public sealed class AuditLog(StoreFactory store, TimeProvider time)
{
    public Task RecordAsync(HttpContext context, string action, string? target, object? details = null) =>
        RecordAsync(context.User.Identity?.Name ?? "anonymous", action, target, details, context.Connection.RemoteIpAddress?.ToString());

    /// <summary>Records a change made outside HTTP (the command line names the local user and "local" as the address).</summary>
    public async Task RecordAsync(string actor, string action, string? target, object? details, string? clientAddress)
    {
        var entry = new AuditEntry
        {
            Time = time.GetUtcNow(),
            Actor = actor,
            Action = action,
            Target = target,
            Details = details is null ? null : JsonSerializer.Serialize(details, JsonSerializerOptions.Web),
            ClientAddress = clientAddress,
        };
        await using var db = store.CreateDbContext();
        db.AuditLog.Add(entry);
        // The change it records has already happened, so the entry is written even if the caller has gone.
        await db.SaveChangesAsync(CancellationToken.None);
    }

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

internal static class PrincipalExtensions
{
    public static string KeyName(this ClaimsPrincipal user) => user.Identity?.Name ?? "anonymous";
}
