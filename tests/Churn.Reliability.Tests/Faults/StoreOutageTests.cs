using Microsoft.Data.Sqlite;

namespace Churn.Reliability.Tests.Faults;

/// <summary>The store unavailable for a while, and the disk under the spill file full.</summary>
[Collection(ReliabilityCollection.Name)]
public sealed class StoreOutageTests(ITestOutputHelper output) : TrainedCopyTests
{
    [Fact]
    public async Task WhileAnotherProcessHoldsTheStoreExclusivelyPredictionsAreServedAndEveryOneIsLoggedAfterwards()
    {
        await using var server = await ServerProcess.StartAsync(DataDir);
        using var service = server.Client();
        // One request first, so the key is in the server's cache before the store goes away.
        Assert.Equal(HttpStatusCode.OK, (await service.PostAsync("/predict", Bodies.Json(Bodies.Customer()))).StatusCode);

        var accepted = new List<Guid>();
        await using (var blocker = new SqliteConnection($"Data Source={Path.Combine(DataDir, "churn.db")};Pooling=False;Default Timeout=60"))
        {
            await blocker.OpenAsync();
            await using (var begin = blocker.CreateCommand())
            {
                // EXCLUSIVE: no other connection may write until we end the transaction.
                begin.CommandText = "BEGIN EXCLUSIVE; UPDATE settings SET key = key WHERE 0;";
                await begin.ExecuteNonQueryAsync();
            }
            for (var b = 0; b < 20; b++)
            {
                accepted.AddRange(await PredictionTraffic.PredictBatchAsync(service, $"outage-{b}", 10));
            }
            await Task.Delay(TimeSpan.FromSeconds(3));
            await using var end = blocker.CreateCommand();
            end.CommandText = "ROLLBACK;";
            await end.ExecuteNonQueryAsync();
        }

        await Wait.UntilAsync(async () => await LocalStore.CountLoggedAsync(DataDir, accepted) == accepted.Count, TimeSpan.FromSeconds(120), "the held predictions to reach the store");
        output.WriteLine($"{accepted.Count} predictions served while the store was locked; {await LocalStore.CountLoggedAsync(DataDir, accepted)} logged afterwards; 0 lost.");
        Assert.Equal(200, accepted.Count);
    }

    [Fact]
    public async Task WhenTheSpillFileCannotBeWrittenTheServerRaisesAnAlertAndKeepsServing()
    {
        // Every write to /dev/full fails with ENOSPC, as on a full disk.
        // Each replica spills to its own folder, named by its instance id.
        Directory.CreateDirectory(Path.Combine(DataDir, "spill", ServerProcess.InstanceId));
        File.CreateSymbolicLink(Path.Combine(DataDir, "spill", ServerProcess.InstanceId, "predictions.jsonl"), "/dev/full");
        // A tiny buffer, so a burst overflows it into the (full) spill file at once.
        await using var server = await ServerProcess.StartAsync(DataDir, new Dictionary<string, string> { ["Churn:PredictionLogCapacity"] = "16" });
        using var admin = server.Client();

        var batches = await Task.WhenAll(Enumerable.Range(0, 8).Select(b => PredictionTraffic.PredictBatchAsync(admin, $"full-{b}", 100)));

        Assert.All(batches, b => Assert.Equal(100, b.Count));
        await Wait.UntilAsync(async () => JsonNode.Parse(await admin.GetStringAsync("/health"))!["predictionLogSpillError"] is not null,
            TimeSpan.FromSeconds(60), "health to report the spill failure");
        await Wait.UntilAsync(async () => JsonNode.Parse(await admin.GetStringAsync("/alerts"))!.AsArray().Any(a => (string?)a!["kind"] == "prediction_log"),
            TimeSpan.FromSeconds(60), "an alert about the spill file");
        var health = JsonNode.Parse(await admin.GetStringAsync("/health"))!;
        output.WriteLine($"health: {health["predictionLogSpillError"]}");
        Assert.Contains("space", health["predictionLogSpillError"]!.GetValue<string>(), StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Cannot write the prediction spill file", server.Output, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync("/predict", Bodies.Json(Bodies.Customer()))).StatusCode);
        Assert.False(server.HasExited);
    }
}
