using Churn.Data.Tracking;

namespace Churn.Reliability.Tests.Faults;

/// <summary>SIGKILL at the worst moments (mid-training, mid-promotion), then a restart over the same data directory.</summary>
[Collection(ReliabilityCollection.Name)]
public sealed class ProcessKillTests(ITestOutputHelper output)
{
    [Fact]
    public async Task AServerKilledDuringTrainingRestartsWithTheRunMarkedFailedTheChampionUnchangedAndTrainingPossibleAgain()
    {
        using var dir = await DataDirs.CloneTrainedAsync();
        int championBefore;
        Guid runId;
        await using (var server = await ServerProcess.StartAsync(dir.Path))
        {
            using var admin = server.Client();
            championBefore = await ChampionAsync(admin);
            var accepted = await admin.PostAsJsonAsync("/retrain", new { rows = 40000, seed = 5 });
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
            var job = (await accepted.ReadObjectAsync())["id"]!.GetValue<string>();
            await Wait.UntilAsync(async () =>
            {
                var state = await admin.GetFromJsonAsync<JsonObject>($"/jobs/{job}");
                return state!["status"]!.GetValue<string>() == "Running" && state["progress"]!.GetValue<double>() > 0;
            }, TimeSpan.FromMinutes(3), "the retraining to be under way");
            server.Kill();
            await using var db = StoreCheck.Open(dir.Path).CreateDbContext();
            runId = await db.Runs.Where(r => r.Status == RunStatus.Running).Select(r => r.Id).SingleAsync();
        }

        await using (var restarted = await ServerProcess.StartAsync(dir.Path))
        {
            using var admin = restarted.Client();
            var champion = await StoreCheck.AssertConsistentAsync(dir.Path);
            await using var db = StoreCheck.Open(dir.Path).CreateDbContext();
            var run = await db.Runs.AsNoTracking().SingleAsync(r => r.Id == runId);
            Assert.Equal(RunStatus.Failed, run.Status);
            Assert.Contains("abandoned", run.Error, StringComparison.Ordinal);
            Assert.Equal(championBefore, champion);
            Assert.Equal(championBefore, await ChampionAsync(admin));
            Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync("/predict", Bodies.Json(Bodies.Customer()))).StatusCode);
            // The killed process held the training lock; a new retraining must not wait for it to expire.
            var again = await admin.PostAsJsonAsync("/retrain", new { rows = 500, seed = 6 });
            Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
            var job = (await again.ReadObjectAsync())["id"]!.GetValue<string>();
            await Wait.UntilAsync(async () => (await admin.GetFromJsonAsync<JsonObject>($"/jobs/{job}"))!["status"]!.GetValue<string>() is "Succeeded" or "Failed",
                TimeSpan.FromMinutes(3), "the second retraining to finish");
            var state = await admin.GetFromJsonAsync<JsonObject>($"/jobs/{job}");
            Assert.True(state!["status"]!.GetValue<string>() == "Succeeded", $"the retraining after the restart failed: {state}");
        }
    }

    [Fact]
    public async Task KillingTheServerAtVariousMomentsOfAPromotionAlwaysLeavesAConsistentRegistryAndAServingChampion()
    {
        using var clone = await DataDirs.CloneTrainedAsync();
        var dir = clone.Path;
        // Loading and warming the target takes a moment before the alias moves: the later kills land after the move.
        int[] delaysMs = [0, 300, 1500, 4000];
        var moved = 0;
        var server = await ServerProcess.StartAsync(dir);
        try
        {
            foreach (var delay in delaysMs)
            {
                using var admin = server.Client();
                var before = await ChampionAsync(admin);
                var target = before == 1 ? 2 : 1;
                var promotion = admin.PostAsJsonAsync($"/models/{target}/promote", new { reason = $"kill after {delay} ms" });
                await Task.Delay(delay);
                server.Kill();
                try
                {
                    await promotion;
                }
                catch (HttpRequestException)
                {
                    // The connection died with the process: that is the point.
                }
                await server.DisposeAsync();

                var champion = await StoreCheck.AssertConsistentAsync(dir);
                Assert.Contains(champion, new[] { before, target });
                moved += champion == target ? 1 : 0;
                // The restarted server serves the champion the store names, and is the next round's victim.
                server = await ServerProcess.StartAsync(dir);
                using var again = server.Client();
                Assert.Equal(champion, await ChampionAsync(again));
                var prediction = await again.PostAsync("/predict", Bodies.Json(Bodies.Customer()));
                Assert.Equal(HttpStatusCode.OK, prediction.StatusCode);
                Assert.Equal(champion, (await prediction.ReadObjectAsync())["modelVersion"]!.GetValue<int>());
            }
        }
        finally
        {
            await server.DisposeAsync();
        }
        output.WriteLine($"{delaysMs.Length} kills during promotion; the alias had moved in {moved} of them; the registry was consistent after every one.");
    }

    /// <summary>The version serving (as /models reports it), which must also be the champion alias.</summary>
    public static async Task<int> ChampionAsync(HttpClient admin)
    {
        var models = await admin.GetFromJsonAsync<JsonArray>("/models");
        var champion = models!.Single(m => m!["aliases"]!.AsArray().Any(a => (string?)a == "champion"))!;
        Assert.True(champion["serving"]!.GetValue<bool>(), $"the champion v{champion["version"]} is not the serving model");
        return champion["version"]!.GetValue<int>();
    }
}
