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
    public async Task GracefulShutdownFlushesEveryServedPredictionToTheStore()
    {
        using var dataDir = server.CloneDataDir();
        int served;
        var factory = new ChurnFactory(dataDir.Path);
        await using (factory)
        {
            using var client = factory.ClientWithKey(ServerFixture.AdminKey);
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
                using var client = factory.ClientWithKey(ServerFixture.AdminKey);
                var before = await ServeAsync(client, "spill-a", 1);
                await WaitUntilAsync(async () => await CountLoggedAsync(logStore, "spill-a") == before);

                Directory.Move(logDir, away);
                var during = await ServeAsync(client, "spill-b", 3);
                var spillDir = dataDir.Combine("spill");
                // Each replica spills into its own folder under spill/.
                await WaitUntilAsync(() => Task.FromResult(Directory.Exists(spillDir) && Directory.EnumerateFiles(spillDir, "*.jsonl", SearchOption.AllDirectories).Any()));
                var health = JsonNode.Parse(await client.GetStringAsync("/health"))!;
                Assert.True(health["predictionLogSpillPending"]!.GetValue<bool>());

                Directory.Move(away, logDir);
                await WaitUntilAsync(async () => await CountLoggedAsync(logStore, "spill-b") == during);
                await WaitUntilAsync(() => Task.FromResult(!Directory.EnumerateFiles(spillDir, "*.jsonl", SearchOption.AllDirectories).Any()));

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

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        for (var attempt = 0; attempt < 300; attempt++)
        {
            if (await condition())
            {
                return;
            }
            await Task.Delay(100);
        }
        Assert.Fail("The condition did not become true within 30 s.");
    }
}
