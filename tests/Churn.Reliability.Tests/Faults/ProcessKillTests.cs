using Churn.Data.Tracking;

namespace Churn.Reliability.Tests.Faults;

/// <summary>SIGKILL at the worst moments (mid-training, mid-promotion), then a restart over the same data directory.</summary>
[Collection(ReliabilityCollection.Name)]
public sealed class ProcessKillTests(ITestOutputHelper output) : TrainedCopyTests
{
    [Fact]
    public async Task AServerKilledDuringTrainingRestartsWithTheRunMarkedFailedTheChampionUnchangedAndTrainingPossibleAgain()
    {
        int championBefore;
        Guid runId;
        await using (var server = await ServerProcess.StartAsync(DataDir))
        {
            using var admin = server.Client();
            championBefore = await Serving.ChampionAsync(admin);
            await BackgroundJobs.UnderWayAsync(admin, await BackgroundJobs.RetrainAsync(admin, rows: 40000, seed: 5));
            server.Kill();
            await using var db = StoreCheck.Open(DataDir).CreateDbContext();
            runId = await db.Runs.Where(r => r.Status == RunStatus.Running).Select(r => r.Id).SingleAsync();
        }

        await using (var restarted = await ServerProcess.StartAsync(DataDir))
        {
            using var admin = restarted.Client();
            var champion = await StoreCheck.AssertConsistentAsync(DataDir);
            await using var db = StoreCheck.Open(DataDir).CreateDbContext();
            var run = await db.Runs.AsNoTracking().SingleAsync(r => r.Id == runId);
            Assert.Equal(RunStatus.Failed, run.Status);
            Assert.Contains("abandoned", run.Error, StringComparison.Ordinal);
            Assert.Equal(championBefore, champion);
            await Serving.AssertChampionServesAsync(admin, championBefore);
            // The killed process held the training lock; a new retraining must not wait for it to expire.
            var state = await BackgroundJobs.FinishedAsync(admin, await BackgroundJobs.RetrainAsync(admin, rows: 500, seed: 6));
            Assert.True(state["status"]!.GetValue<string>() == "Succeeded", $"the retraining after the restart failed: {state}");
        }
    }

    [Fact]
    public async Task KillingTheServerAtVariousMomentsOfAPromotionAlwaysLeavesAConsistentRegistryAndAServingChampion()
    {
        // Loading and warming the target takes a moment before the alias moves: the later kills land after the move.
        int[] delaysMs = [0, 300, 1500, 4000];
        var moved = 0;
        var server = await ServerProcess.StartAsync(DataDir);
        try
        {
            foreach (var delay in delaysMs)
            {
                using var admin = server.Client();
                var before = await Serving.ChampionAsync(admin);
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

                var champion = await StoreCheck.AssertConsistentAsync(DataDir);
                Assert.Contains(champion, new[] { before, target });
                moved += champion == target ? 1 : 0;
                // The restarted server serves the champion the store names, and is the next round's victim.
                server = await ServerProcess.StartAsync(DataDir);
                using var again = server.Client();
                await Serving.AssertChampionServesAsync(again, champion);
            }
        }
        finally
        {
            await server.DisposeAsync();
        }
        output.WriteLine($"{delaysMs.Length} kills during promotion; the alias had moved in {moved} of them; the registry was consistent after every one.");
    }
}
