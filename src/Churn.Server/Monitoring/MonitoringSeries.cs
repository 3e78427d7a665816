namespace Churn.Server.Monitoring;

/// <summary>Reads stored monitoring time series; the <c>/monitoring/*</c> endpoints and the dashboard's charts share it.</summary>
public static class MonitoringSeries
{
    /// <summary>The newest <paramref name="limit"/> results of one kind between the two times, returned oldest first.</summary>
    public static async Task<List<MonitoringPoint>> ReadAsync(StoreFactory store, string kind, DateTimeOffset start, DateTimeOffset end, int limit, CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        var rows = await db.MonitoringResults.AsNoTracking()
            .Where(m => m.Kind == kind && m.Time >= start && m.Time <= end)
            .OrderByDescending(m => m.Time).Take(limit)
            .ToListAsync(ct);
        return [.. rows.OrderBy(m => m.Time).ThenBy(m => m.Id)
            .Select(m => new MonitoringPoint(m.Id, m.Time, m.WindowStart, m.WindowEnd, JsonDocument.Parse(m.ResultJson).RootElement.Clone()))];
    }

    /// <summary>
    /// One segment's series of one kind, in the shape of the whole window's (<see cref="MonitoringKinds.Segments"/> gives
    /// the segment's entry itself): read from the stored segment checks, skipping checks where the segment had no such result.
    /// </summary>
    public static async Task<List<MonitoringPoint>> ReadSegmentAsync(
        StoreFactory store, string kind, string segment, DateTimeOffset start, DateTimeOffset end, int limit, CancellationToken ct)
    {
        var points = new List<MonitoringPoint>();
        foreach (var point in await ReadAsync(store, MonitoringKinds.Segments, start, end, limit, ct))
        {
            if (!point.Result.TryGetProperty("segments", out var segments) || segments.ValueKind != JsonValueKind.Array)
            {
                continue;
            }
            foreach (var entry in segments.EnumerateArray())
            {
                if (entry.TryGetProperty("segment", out var name) && name.GetString() == segment
                    && Part(kind, entry) is { } result)
                {
                    points.Add(point with { Result = result });
                }
            }
        }
        return points;
    }

    private static JsonElement? Part(string kind, JsonElement entry)
    {
        if (kind == MonitoringKinds.Segments)
        {
            return entry;
        }
        var property = kind switch
        {
            MonitoringKinds.Drift => "drift",
            MonitoringKinds.Quality => "quality",
            MonitoringKinds.Performance => "performance",
            _ => null,
        };
        if (property is null || !entry.TryGetProperty(property, out var part) || part.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        // The performance of a segment is the champion's alone; it is wrapped as a window of one version, like the whole window's.
        return kind == MonitoringKinds.Performance
            ? JsonSerializer.SerializeToElement(new { versions = new[] { part } })
            : part;
    }
}

/// <summary>Acknowledging an alert, for <c>POST /alerts/{id}/acknowledge</c> and the dashboard's Acknowledge button alike.</summary>
public static class AlertAcknowledgement
{
    /// <summary>
    /// Marks the alert acknowledged by <paramref name="by"/> and audits it; an alert already acknowledged is left as it
    /// was (first acknowledgement wins). Null when there is no such alert.
    /// </summary>
    public static async Task<AlertResponse?> AcknowledgeAsync(
        Guid id, AuditActor by, StoreFactory store, AuditLog audit, TimeProvider time, CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        var alert = await db.Alerts.SingleOrDefaultAsync(a => a.Id == id, ct);
        if (alert is null)
        {
            return null;
        }
        if (alert.AcknowledgedAt is null)
        {
            alert.AcknowledgedAt = time.GetUtcNow();
            alert.AcknowledgedBy = by.Name;
            await db.SaveChangesAsync(ct);
            await audit.RecordAsync(by, "alert.acknowledge", id.ToString(), new { alert.Kind, alert.Message });
        }
        return alert.AsResponse();
    }
}
