using Churn.Core.Drift;
using Churn.Core.Models;
using Churn.Data.Predictions;

namespace Churn.Data.Monitoring;

/// <summary>How a window's drift counts were put together: buckets taken from the store, buckets counted from rows, rows read.</summary>
/// <param name="Counts">The window's counts, against the card given.</param>
/// <param name="BucketsStored">Whole buckets whose stored counts were still those of their rows, and were used as stored.</param>
/// <param name="BucketsCounted">Whole buckets counted from their rows (new, changed since, or counted against another card) and stored.</param>
/// <param name="RowsRead">Rows read from the log: those of the buckets counted and of the window's partial buckets at either end.</param>
public sealed record WindowDriftCountsResult(DriftCounts Counts, int BucketsStored, int BucketsCounted, long RowsRead);

/// <summary>
/// A model's drift counts (<see cref="DriftCounts"/>) over a window of the prediction log, from counts stored per time
/// bucket (<see cref="DriftCountsEntry"/>, table <c>drift_counts</c>) wherever they are still those of the bucket's rows,
/// and from the rows elsewhere (ADR 0011). The cost of a repeated check grows with the buckets in its window, not with
/// the predictions in them.
/// <list type="bullet">
/// <item>The window's whole buckets of <see cref="Bucket"/>: a stored bucket is used when it was counted against the same
/// card and the log still holds as many rows in the bucket (of any model) as when it was counted; otherwise its rows are
/// counted again and stored. A spill replayed into an old bucket or an erasure from it is thus counted at the next check.</item>
/// <item>The partial buckets at the window's two ends are counted from their rows every time.</item>
/// </list>
/// Rows are read about <see cref="RowsPerRead"/> at a time, so memory stays bounded whatever the traffic.
/// </summary>
public static class WindowDriftCounts
{
    /// <summary>The length of a stored bucket: buckets start at multiples of it since the Unix epoch (UTC).</summary>
    public static readonly TimeSpan Bucket = TimeSpan.FromMinutes(10);

    /// <summary>
    /// About the most rows read from the log in one query while counting: a stretch holding more is read in equal slices
    /// of time. Reading a bucket in one query costs far less than reading it in many small ones, and this many rows of
    /// the parsed window stay in the tens of megabytes.
    /// </summary>
    public const int RowsPerRead = 50_000;

    private static readonly TimeSpan Tick = TimeSpan.FromTicks(1);

    /// <summary>
    /// The drift counts of <paramref name="modelName"/>'s predictions logged from <paramref name="start"/> to
    /// <paramref name="end"/> (both inclusive), against <paramref name="card"/>, the card of version
    /// <paramref name="cardVersion"/> (whose own predictions give the score's counts). Buckets counted from rows are
    /// stored; when another replica stored the same bucket first, this one's is dropped and its counts still used.
    /// </summary>
    /// <param name="rowsPerRead">About the most rows read in one query (<see cref="RowsPerRead"/> unless given); at least 1.</param>
    /// <exception cref="System.Text.Json.JsonException">A logged input or stored counts are not valid JSON.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rowsPerRead"/> is below 1.</exception>
    public static async Task<WindowDriftCountsResult> CountAsync(
        ChurnDbContext db, string modelName, int cardVersion, ModelCard card, DateTimeOffset start, DateTimeOffset end, CancellationToken ct = default,
        int rowsPerRead = RowsPerRead)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(card);
        ArgumentOutOfRangeException.ThrowIfLessThan(rowsPerRead, 1);
        var reader = new RowCounter(db, modelName, cardVersion, card, rowsPerRead);
        var counts = new DriftCounts();
        long rowsRead = 0;
        var firstWhole = BucketStart(start) == start ? start : BucketStart(start) + Bucket;
        var wholeEnd = BucketStart(end + Tick);
        if (wholeEnd <= firstWhole)
        {
            rowsRead += await reader.CountAsync(start, end, null, counts, ct);
            return new WindowDriftCountsResult(counts, 0, 0, rowsRead);
        }
        if (start < firstWhole)
        {
            rowsRead += await reader.CountAsync(start, firstWhole - Tick, null, counts, ct);
        }
        if (wholeEnd <= end)
        {
            rowsRead += await reader.CountAsync(wholeEnd, end, null, counts, ct);
        }
        var stored = await db.DriftCounts
            .Where(c => c.ModelName == modelName && c.CardVersion == cardVersion && c.BucketStart >= firstWhole && c.BucketStart < wholeEnd)
            .ToDictionaryAsync(c => c.BucketStart, ct);
        int reused = 0, counted = 0;
        for (var bucket = firstWhole; bucket < wholeEnd; bucket += Bucket)
        {
            var next = bucket + Bucket;
            // Counted before the rows are read: a row logged in between makes the stored number short, so the bucket is
            // counted again next time rather than kept with a row missing.
            var logged = await db.PredictionLog.LongCountAsync(p => p.Time >= bucket && p.Time < next, ct);
            stored.TryGetValue(bucket, out var entry);
            if (entry is not null && entry.LoggedRows == logged)
            {
                counts.Add(DriftCounts.FromJson(entry.CountsJson));
                reused++;
                continue;
            }
            var bucketCounts = new DriftCounts();
            rowsRead += await reader.CountAsync(bucket, next - Tick, logged, bucketCounts, ct);
            counts.Add(bucketCounts);
            counted++;
            if (entry is null)
            {
                db.DriftCounts.Add(new DriftCountsEntry
                {
                    ModelName = modelName,
                    CardVersion = cardVersion,
                    BucketStart = bucket,
                    LoggedRows = logged,
                    CountsJson = bucketCounts.ToJson(),
                });
            }
            else
            {
                entry.LoggedRows = logged;
                entry.CountsJson = bucketCounts.ToJson();
            }
        }
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            // Another replica stored a bucket first (the unique index); its counts are of the same rows.
            db.ChangeTracker.Clear();
        }
        return new WindowDriftCountsResult(counts, reused, counted, rowsRead);
    }

    /// <summary>The start of the bucket holding <paramref name="time"/>, in UTC.</summary>
    public static DateTimeOffset BucketStart(DateTimeOffset time)
    {
        var utc = time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        var into = ((utc % Bucket.Ticks) + Bucket.Ticks) % Bucket.Ticks;
        return new DateTimeOffset(time.UtcTicks - into, TimeSpan.Zero);
    }

    /// <summary>Reads a model's logged rows in slices of about <c>rowsPerRead</c> and counts them against a card.</summary>
    private sealed class RowCounter(ChurnDbContext db, string modelName, int cardVersion, ModelCard card, int rowsPerRead)
    {
        /// <summary>
        /// Adds the counts of the model's rows logged from <paramref name="from"/> to <paramref name="to"/> (inclusive) to
        /// <paramref name="counts"/>, reading them in equal slices of time sized by the log's count of rows there
        /// (<paramref name="logged"/>, or counted here when null); returns the rows read.
        /// </summary>
        public async Task<long> CountAsync(DateTimeOffset from, DateTimeOffset to, long? logged, DriftCounts counts, CancellationToken ct)
        {
            logged ??= await db.PredictionLog.LongCountAsync(p => p.Time >= from && p.Time <= to, ct);
            var slices = Math.Max(1, (logged.Value + rowsPerRead - 1) / rowsPerRead);
            var length = TimeSpan.FromTicks(Math.Max(1, ((to - from).Ticks + 1 + slices - 1) / slices));
            long read = 0;
            for (var sliceStart = from; sliceStart <= to; sliceStart += length)
            {
                var sliceEnd = sliceStart + length - Tick < to ? sliceStart + length - Tick : to;
                var window = await LoggedWindow.ReadAsync(db, modelName, sliceStart, sliceEnd, maxRows: null, card.Schema, ct);
                if (window.Rows.Count == 0)
                {
                    continue;
                }
                var scores = window.Rows.Where(r => r.ModelVersion == cardVersion).Select(r => r.Probability).ToList();
                counts.Add(DriftCounts.Of(card, window.Inputs!, scores));
                read += window.Rows.Count;
            }
            return read;
        }
    }
}
