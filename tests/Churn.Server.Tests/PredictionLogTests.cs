using Churn.Data.Store;
using Churn.Server.Predictions;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;

namespace Churn.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class PredictionLogTests(ServerFixture server)
{
    private static async Task<int> ServeAsync(HttpClient client, string prefix, int batches)
    {
        var served = 0;
        for (var b = 0; b < batches; b++)
        {
            var customers = Bodies.Customers(100, seed: 100 + b);
            for (var i = 0; i < customers.Count; i++)
            {
                customers[i]["customerId"] = $"{prefix}-{b}-{i}";
            }
            var response = await client.PostAsync("/predict/batch", Bodies.Json(new JsonObject { ["customers"] = new JsonArray([.. customers]) }));
            response.EnsureSuccessStatusCode();
            served += (await response.ReadObjectAsync())["predictions"]!.AsArray().Count;
        }
        return served;
    }

    private static async Task<int> CountLoggedAsync(StoreFactory store, string prefix)
    {
        await using var db = store.CreateDbContext();
        return await db.PredictionLog.CountAsync(p => p.CustomerId!.StartsWith(prefix));
    }

    [Fact]
    public async Task UnderTheGroupCommitEveryAnsweredPredictionsJournalLineIsOnDiskBeforeTheAnswer()
    {
        using var dataDir = server.CloneDataDir();
        await using var factory = new ChurnFactory(dataDir.Path);
        using var client = factory.ClientWithKey(TestSecrets.AdminKey);
        var journal = factory.Services.GetRequiredService<PredictionJournal>();
        Assert.Equal(JournalFlush.GroupCommit, journal.Flush);

        for (var i = 0; i < 20; i++)
        {
            using var response = i % 2 == 0
                ? await client.PostAsync("/predict", Bodies.Json(Bodies.Customer(seed: i)))
                : await client.PostAsync("/predict/batch", Bodies.Json(new JsonObject { ["customers"] = new JsonArray([.. Bodies.Customers(40, seed: i)]) }));
            response.EnsureSuccessStatusCode();
            // Only this client predicts here: every line journaled so far is its own, and each answer waited for its lines.
            var (appended, durable) = (journal.AppendedLines, journal.DurableLines);
            Assert.True(durable >= appended, $"Answer {i}: {appended} lines journaled, {durable} on disk.");
        }
        Assert.Equal(20 / 2 * 41, journal.AppendedLines);
    }

    [Fact]
    public async Task GracefulShutdownFlushesEveryServedPredictionToTheStore()
    {
        using var dataDir = server.CloneDataDir();
        int served;
        var factory = new ChurnFactory(dataDir.Path);
        await using (factory)
        {
            using var client = factory.ClientWithKey(TestSecrets.AdminKey);
            served = await ServeAsync(client, "flush", 20);
        }

        var store = new StoreFactory(new StoreOptions(), dataDir.Path);
        Assert.Equal(served, await CountLoggedAsync(store, "flush"));
        Assert.Equal(2000, served);
    }

    [Fact]
    public async Task WhileTheStoreIsUnavailablePredictionsAreServedSpilledToAFileAndReplayedLater()
    {
        using var dataDir = server.CloneDataDir();
        var logDir = dataDir.Combine("log-store");
        var away = dataDir.Combine("log-store-away");
        // A separate SQLite file without pooling: moving its folder away makes every write fail, as a lost database would.
        var logStore = new StoreFactory(new StoreOptions { ConnectionString = $"Data Source={Path.Combine(logDir, "log.db")};Pooling=False" }, logDir);
        await logStore.MigrateAsync();
        try
        {
            var factory = new ChurnFactory(dataDir.Path).WithWebHostBuilder(b => b.ConfigureTestServices(services =>
                services.AddSingleton(new PredictionLogTarget(logStore))));
            await using (factory)
            {
                using var client = factory.ClientWithKey(TestSecrets.AdminKey);
                var before = await ServeAsync(client, "spill-a", 1);
                await Wait.UntilAsync(async () => await CountLoggedAsync(logStore, "spill-a") == before, TimeSpan.FromSeconds(30), "the first predictions in the log store");

                Directory.Move(logDir, away);
                var during = await ServeAsync(client, "spill-b", 3);
                var spillDir = dataDir.Combine("spill");
                // Each replica spills into its own folder under spill/.
                await Wait.UntilAsync(() => Task.FromResult(Directory.Exists(spillDir) && Directory.EnumerateFiles(spillDir, "*.jsonl", SearchOption.AllDirectories).Any()),
                    TimeSpan.FromSeconds(30), "a spill file");
                var health = JsonNode.Parse(await client.GetStringAsync("/health"))!;
                Assert.True(health["predictionLogSpillPending"]!.GetValue<bool>());

                Directory.Move(away, logDir);
                await Wait.UntilAsync(async () => await CountLoggedAsync(logStore, "spill-b") == during, TimeSpan.FromSeconds(30), "the spilled predictions in the log store");
                await Wait.UntilAsync(() => Task.FromResult(!Directory.EnumerateFiles(spillDir, "*.jsonl", SearchOption.AllDirectories).Any()),
                    TimeSpan.FromSeconds(30), "the spill files to be replayed and removed");

                Assert.Equal(300, during);
                Assert.Equal(before, await CountLoggedAsync(logStore, "spill-a"));
            }
        }
        finally
        {
            if (Directory.Exists(away))
            {
                Directory.Move(away, logDir);
            }
        }
    }
}
