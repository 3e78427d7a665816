using System.Data.Common;
using Churn.Core.Schema;
using Churn.Data.Predictions;
using Microsoft.EntityFrameworkCore;

namespace Churn.Data.Tests.Predictions;

/// <summary>The prediction log in the store (the direct insert, the monitoring window), checked against EF Core, on SQLite and PostgreSQL.</summary>
public abstract class PredictionLogStoreScenarios : StoreTestBase
{
    private static readonly DateTimeOffset Start = new(2026, 11, 30, 8, 0, 0, TimeSpan.Zero);

    private static List<PredictionLogEntry> Entries(int count, int offset = 0) =>
    [
        .. Enumerable.Range(offset, count).Select(i => new PredictionLogEntry
        {
            Id = Guid.CreateVersion7(Start.AddMilliseconds(i)),
            // Sub-millisecond ticks too: the stored time must round-trip to the tick.
            Time = Start.AddTicks(i * 12_345_677L),
            ModelName = i % 3 == 0 ? "telco" : "bank",
            ModelVersion = i % 7,
            CustomerId = i % 4 == 0 ? null : $"c-{i}",
            InputsJson = $$"""{"tenure": {{i}}, "plan": "Caf\u00e9 'Gold' {{i}}"}""",
            OutputsJson = $$"""{"probability": {{i / 10_000.0}}}""",
            Probability = i / 10_000.0 + 1e-17,
            LatencyMicroseconds = long.MaxValue - i,
        }),
    ];

    /// <summary>The test's store with <paramref name="entries"/> inserted.</summary>
    private async Task<ChurnStore> StoreHoldingAsync(IReadOnlyList<PredictionLogEntry> entries)
    {
        var store = await OpenAsync();
        await using var db = store.CreateDbContext();
        await PredictionLogInsert.InsertAsync(db, entries);
        return store;
    }

    [Fact]
    public async Task InsertedRowsReadBackThroughEfAsRowsSavedByEfDoAndAnswerItsTimeAndIdQueries()
    {
        // More rows than one multi-row statement holds, so the chunking is exercised where it applies.
        var entries = Entries(PredictionLogInsert.RowsPerStatement * 2 + 7);
        // The same rows saved by EF Core's change tracker under the model name "ef": the reference for every column.
        var saved = Entries(entries.Count, offset: entries.Count);
        foreach (var (entry, i) in saved.Select((e, i) => (e, i)))
        {
            (entry.Time, entry.ModelName, entry.ModelVersion, entry.CustomerId, entry.InputsJson, entry.OutputsJson, entry.Probability, entry.LatencyMicroseconds) =
                (entries[i].Time, "ef", entries[i].ModelVersion, entries[i].CustomerId, entries[i].InputsJson, entries[i].OutputsJson, entries[i].Probability, entries[i].LatencyMicroseconds);
        }
        using var store = await OpenAsync();
        await using (var db = store.CreateDbContext())
        {
            await PredictionLogInsert.InsertAsync(db, entries);
            db.PredictionLog.AddRange(saved);
            await db.SaveChangesAsync();
        }

        await using var read = store.CreateDbContext();
        var inserted = await read.PredictionLog.AsNoTracking().Where(p => p.ModelName != "ef").OrderByDescending(p => p.LatencyMicroseconds).ToListAsync();
        var reference = await read.PredictionLog.AsNoTracking().Where(p => p.ModelName == "ef").OrderByDescending(p => p.LatencyMicroseconds).ToListAsync();
        Assert.Equal(entries.Count, inserted.Count);
        Assert.Equal(entries.Select(e => e.Id), inserted.Select(p => p.Id));
        Assert.Equal(entries.Select(e => e.ModelName), inserted.Select(p => p.ModelName));
        foreach (var (actual, expected) in inserted.Zip(reference))
        {
            Assert.Equal(
                (expected.Time, expected.ModelVersion, expected.CustomerId, expected.InputsJson, expected.OutputsJson, expected.Probability, expected.LatencyMicroseconds),
                (actual.Time, actual.ModelVersion, actual.CustomerId, actual.InputsJson, actual.OutputsJson, actual.Probability, actual.LatencyMicroseconds));
        }
        var from = entries[100].Time;
        Assert.Equal(2 * (entries.Count - 100), await read.PredictionLog.CountAsync(p => p.Time >= from));
        var ids = new[] { entries[3].Id, entries[500].Id, Guid.NewGuid() };
        Assert.Equal(2, await read.PredictionLog.CountAsync(p => ids.Contains(p.Id)));
        Assert.Equal(2 * entries.Count(e => e.CustomerId is null), await read.PredictionLog.CountAsync(p => p.CustomerId == null));
    }

    [Fact]
    public async Task TheMonitoringWindowReadsTheNewestRowsInItsBoundsWithTheirOwnInputsAcrossChunks()
    {
        var entries = Entries(9_000);
        using var store = await StoreHoldingAsync(entries);
        var schema = new DatasetSchema
        {
            IdColumn = "id",
            LabelColumn = "churn",
            PositiveLabel = "Yes",
            Features = [new("tenure", FeatureKind.Numeric), new("plan", FeatureKind.Categorical)],
        };

        await using var read = store.CreateDbContext();
        // Both bounds inclusive; the newest 5,000 of the 5,334 bank rows among the 8,001 inside them: two parse chunks of up to 4,096 rows.
        var window = await LoggedWindow.ReadAsync(read, "bank", entries[100].Time, entries[8_100].Time, maxRows: 5_000, schema);
        var expected = entries.Skip(100).Take(8_001).Where(e => e.ModelName == "bank").OrderByDescending(e => e.Time).Take(5_000).ToList();

        // Every field of every row as EF reads it back (the time at the store's precision), though on SQLite the window steps its rows
        // through SQLite's own API.
        var stored = await read.PredictionLog.AsNoTracking().ToDictionaryAsync(p => p.Id);
        Assert.Equal(expected.Select(e => Logged(stored[e.Id])), window.Rows);
        Assert.Equal(expected.Select(e => e.CustomerId), window.Inputs!.Ids);
        var tenure = window.Inputs.Columns[0].Numbers!;
        var plan = window.Inputs.Columns[1].Categories!;
        for (var i = 0; i < expected.Count; i++)
        {
            var n = (int)(long.MaxValue - expected[i].LatencyMicroseconds);
            Assert.Equal(n, tenure[i]);
            Assert.Equal($"Café 'Gold' {n}", plan[i]);
        }
        var bare = await LoggedWindow.ReadAsync(read, "telco", start: null, end: null, maxRows: null, schema: null);
        Assert.Null(bare.Inputs);
        Assert.Equal(entries.Where(e => e.ModelName == "telco").OrderByDescending(e => e.Time).Select(e => Logged(stored[e.Id])), bare.Rows);
    }

    private static LoggedPrediction Logged(PredictionLogEntry e) => new(e.Id, e.ModelVersion, e.CustomerId, e.Probability, e.LatencyMicroseconds, e.Time);

    [Fact]
    public async Task ABatchWithARowTheStoreRefusesStoresNoneOfIt()
    {
        var first = Entries(5);
        using var store = await StoreHoldingAsync(first);

        // The last row repeats a stored id: the primary key refuses it, and the four new rows before it go too.
        List<PredictionLogEntry> second = [.. Entries(4, offset: 10), first[2]];
        await using (var db = store.CreateDbContext())
        {
            await Assert.ThrowsAnyAsync<DbException>(() => PredictionLogInsert.InsertAsync(db, second));
        }

        await using var read = store.CreateDbContext();
        Assert.Equal(first.Select(e => e.Id).Order(), await read.PredictionLog.Select(p => p.Id).OrderBy(id => id).ToListAsync());
    }

    [Fact]
    public async Task RowsInsertedInsideTheCallersTransactionGoWhenItRollsBack()
    {
        using var store = await OpenAsync();
        await using (var db = store.CreateDbContext())
        {
            await using var transaction = await db.Database.BeginTransactionAsync();
            await PredictionLogInsert.InsertAsync(db, Entries(3));
            Assert.Equal(3, await db.PredictionLog.CountAsync());
            await transaction.RollbackAsync();
        }

        await using var read = store.CreateDbContext();
        Assert.Equal(0, await read.PredictionLog.CountAsync());
    }
}

public sealed class SqlitePredictionLogStoreTests : PredictionLogStoreScenarios;

[Collection(PostgresCollection.Name)]
public sealed class PostgresPredictionLogStoreTests(PostgresCluster cluster) : PredictionLogStoreScenarios
{
    protected override Task<StoreOptions> StoreOptionsAsync() => cluster.StoreOptionsAsync();
}
