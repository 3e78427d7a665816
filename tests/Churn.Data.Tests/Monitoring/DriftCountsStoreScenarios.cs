using Churn.Core.Data;
using Churn.Core.Drift;
using Churn.Core.Generation;
using Churn.Core.Models;
using Churn.Core.Training;
using Churn.Data.Monitoring;
using Churn.Data.Predictions;
using Microsoft.EntityFrameworkCore;

namespace Churn.Data.Tests.Monitoring;

/// <summary>
/// A window's drift counts from stored buckets and rows (<see cref="WindowDriftCounts"/>) against the counts of all its
/// rows read at once, as rows come and go, on SQLite and PostgreSQL.
/// </summary>
public abstract class DriftCountsStoreScenarios : StoreTestBase
{
    // Rows from 08:03 for 35 minutes: the window below has whole buckets at 08:10 and 08:20 and partial ones at either end.
    private static readonly DateTimeOffset First = new(2026, 11, 30, 8, 3, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset WindowStart = new(2026, 11, 30, 8, 5, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset WindowEnd = new(2026, 11, 30, 8, 34, 59, TimeSpan.Zero);
    private static readonly DateTimeOffset Bucket0810 = new(2026, 11, 30, 8, 10, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Bucket0820 = new(2026, 11, 30, 8, 20, 0, TimeSpan.Zero);

    private static readonly Lazy<ModelCard> Card = new(() =>
    {
        var data = DatasetLoader.Load(GeneratedCustomers.CsvFile(800, seed: 5), CustomerGenerator.Schema);
        return ChurnTrainer.Train(data, new TrainingOptions { Seed = 5 }).Model.Card;
    });

    /// <summary>Generated customers logged every 0.7 s from <see cref="First"/>: model "churn" versions 1 and 2, and some of another model.</summary>
    private static List<PredictionLogEntry> Entries(int count, int seed, double drift, DateTimeOffset first) =>
    [
        .. GeneratedCustomers.Json(count, seed, drift).Select((customer, i) => new PredictionLogEntry
        {
            Id = Guid.CreateVersion7(),
            Time = first.AddMilliseconds(i * 700L),
            ModelName = i % 10 == 9 ? "other" : "churn",
            ModelVersion = i % 3 == 0 ? 2 : 1,
            CustomerId = customer["customerId"]!.GetValue<string>(),
            InputsJson = customer["features"]!.ToJsonString(),
            Probability = (i % 97) / 97.0,
        }),
    ];

    [Fact]
    public async Task TheWindowsCountsEqualTheCountsOfItsRowsWhetherBucketsAreStoredCountedAgainOrChanged()
    {
        var card = Card.Value;
        using var store = await OpenAsync();
        await using (var db = store.CreateDbContext())
        {
            await PredictionLogInsert.InsertAsync(db, Entries(3_000, seed: 3, drift: 0.5, First));
        }

        // First check: both whole buckets are counted from their rows and stored.
        var first = await CountAsync(store, card, cardVersion: 1);
        Assert.Equal((0, 2), (first.BucketsStored, first.BucketsCounted));
        Assert.Equal(await ExpectedAsync(store, card, cardVersion: 1), Report(card, first));
        Assert.True(first.Counts.Rows > 2_000, $"{first.Counts.Rows} rows");

        // Second check: the stored buckets are used as they are; only the partial ends are read.
        var second = await CountAsync(store, card, cardVersion: 1);
        Assert.Equal((2, 0), (second.BucketsStored, second.BucketsCounted));
        Assert.Equal(Report(card, first), Report(card, second));
        Assert.True(second.RowsRead < first.RowsRead - 1_500, $"{second.RowsRead} rows read against {first.RowsRead}");

        // A row replayed late into 08:10 and a row erased from 08:20: both buckets are counted again.
        await using (var db = store.CreateDbContext())
        {
            await PredictionLogInsert.InsertAsync(db, Entries(1, seed: 9, drift: 1, Bucket0810.AddMinutes(4)));
            var erased = await db.PredictionLog.Where(p => p.Time >= Bucket0820 && p.ModelName == "churn").OrderBy(p => p.Time).Select(p => p.Id).FirstAsync();
            await db.PredictionLog.Where(p => p.Id == erased).ExecuteDeleteAsync();
        }
        var changed = await CountAsync(store, card, cardVersion: 1);
        Assert.Equal((0, 2), (changed.BucketsStored, changed.BucketsCounted));
        Assert.Equal(first.Counts.Rows, changed.Counts.Rows);
        Assert.Equal(await ExpectedAsync(store, card, cardVersion: 1), Report(card, changed));
        Assert.NotEqual(Report(card, first), Report(card, changed));

        // Counted against another version's card (its own scores), the buckets are counted and stored beside the first ones.
        var other = await CountAsync(store, card, cardVersion: 2);
        Assert.Equal((0, 2), (other.BucketsStored, other.BucketsCounted));
        Assert.Equal(await ExpectedAsync(store, card, cardVersion: 2), Report(card, other));
        await using var read = store.CreateDbContext();
        Assert.Equal(4, await read.DriftCounts.CountAsync());
        Assert.Equal([Bucket0810, Bucket0820], await read.DriftCounts.Where(c => c.CardVersion == 2).OrderBy(c => c.BucketStart).Select(c => c.BucketStart).ToListAsync());
    }

    [Fact]
    public async Task BucketsReadInManySlicesCountEveryRowOnce()
    {
        var card = Card.Value;
        using var store = await OpenAsync();
        await using (var db = store.CreateDbContext())
        {
            await PredictionLogInsert.InsertAsync(db, Entries(3_000, seed: 6, drift: 0.3, First));
        }
        await using var read = store.CreateDbContext();

        // About 120 rows per read: a whole bucket (some 860 rows of the log) in eight slices, the partial ends in several.
        var sliced = await WindowDriftCounts.CountAsync(read, "churn", 1, card, WindowStart, WindowEnd, rowsPerRead: 120);

        Assert.Equal((0, 2), (sliced.BucketsStored, sliced.BucketsCounted));
        var rows = await read.PredictionLog.CountAsync(p => p.ModelName == "churn" && p.Time >= WindowStart && p.Time <= WindowEnd);
        Assert.Equal(rows, sliced.Counts.Rows);
        Assert.Equal(rows, sliced.RowsRead);
        Assert.Equal(await ExpectedAsync(store, card, cardVersion: 1), Report(card, sliced));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => WindowDriftCounts.CountAsync(read, "churn", 1, card, WindowStart, WindowEnd, rowsPerRead: 0));
    }

    [Fact]
    public async Task AWindowInsideOneBucketIsCountedFromItsRowsAndStoresNothing()
    {
        var card = Card.Value;
        using var store = await OpenAsync();
        await using (var db = store.CreateDbContext())
        {
            await PredictionLogInsert.InsertAsync(db, Entries(500, seed: 4, drift: 0, First));
        }
        await using var read = store.CreateDbContext();

        var result = await WindowDriftCounts.CountAsync(read, "churn", 1, card, First, First.AddMinutes(5));

        Assert.Equal((0, 0), (result.BucketsStored, result.BucketsCounted));
        Assert.Equal(await ExpectedAsync(store, card, 1, First, First.AddMinutes(5)), Report(card, result));
        Assert.Equal(0, await read.DriftCounts.CountAsync());
    }

    [Fact]
    public void BucketsStartAtMultiplesOfTheirLengthSinceTheEpochInUtc()
    {
        Assert.Equal(Bucket0810, WindowDriftCounts.BucketStart(Bucket0810));
        Assert.Equal(Bucket0810, WindowDriftCounts.BucketStart(Bucket0810.AddMinutes(10).AddTicks(-1)));
        Assert.Equal(Bucket0810, WindowDriftCounts.BucketStart(new DateTimeOffset(2026, 11, 30, 9, 15, 0, TimeSpan.FromHours(1))));
        Assert.Equal(TimeSpan.Zero, WindowDriftCounts.BucketStart(new DateTimeOffset(2026, 11, 30, 9, 15, 0, TimeSpan.FromHours(1))).Offset);
    }

    private static async Task<WindowDriftCountsResult> CountAsync(ChurnStore store, ModelCard card, int cardVersion)
    {
        await using var db = store.CreateDbContext();
        return await WindowDriftCounts.CountAsync(db, "churn", cardVersion, card, WindowStart, WindowEnd);
    }

    /// <summary>The drift report of the window's rows read at once and counted, as JSON text.</summary>
    private static async Task<string> ExpectedAsync(ChurnStore store, ModelCard card, int cardVersion, DateTimeOffset? start = null, DateTimeOffset? end = null)
    {
        await using var db = store.CreateDbContext();
        var window = await LoggedWindow.ReadAsync(db, "churn", start ?? WindowStart, end ?? WindowEnd, maxRows: null, card.Schema);
        var scores = window.Rows.Where(r => r.ModelVersion == cardVersion).Select(r => r.Probability).ToList();
        return JsonSerializer.Serialize(DriftDetector.Detect(card, DriftCounts.Of(card, window.Inputs!, scores)));
    }

    private static string Report(ModelCard card, WindowDriftCountsResult result) => JsonSerializer.Serialize(DriftDetector.Detect(card, result.Counts));
}

public sealed class SqliteDriftCountsStoreTests : DriftCountsStoreScenarios;

[Collection(PostgresCollection.Name)]
public sealed class PostgresDriftCountsStoreTests(PostgresCluster cluster) : DriftCountsStoreScenarios
{
    protected override Task<StoreOptions> StoreOptionsAsync() => cluster.StoreOptionsAsync();
}
